;; Functions the kernels share; not exported. A v128 here is 4 float32 lanes.

;; (l0 + l1) + (l2 + l3): a vector accumulator's lanes summed into one float.
(func $hsum (param $v v128) (result f32)
  (f32.add
    (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
    (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

;; e^a in every lane of a ≤ 0. e^a = 2^k·e^r with k = round(a·log2 e) and r = a − k·ln 2, ln 2
;; taken in two parts (Cody–Waite: k·ln2_hi is exact for the k that occur), e^r by its Taylor
;; series to r⁷ (|r| ≤ 0.35: relative error < 1e-8 before float32 rounding), and 2^k built in the
;; exponent bits. a is clamped to [−87, 0], where every 2^k is a normal float32.
(func $expNonPositive (param $a v128) (result v128)
  (local $k v128) (local $r v128)
  (local.set $a (f32x4.max (local.get $a) (v128.const f32x4 -87 -87 -87 -87)))
  ;; k = round(a·log2 e): adding and subtracting 1.5·2²³ rounds to the nearest integer.
  (local.set $k
    (f32x4.sub
      (f32x4.add
        (f32x4.mul (local.get $a) (v128.const f32x4 1.4426950408889634 1.4426950408889634 1.4426950408889634 1.4426950408889634))
        (v128.const f32x4 12582912 12582912 12582912 12582912))
      (v128.const f32x4 12582912 12582912 12582912 12582912)))
  ;; r = a − k·ln2_hi − k·ln2_lo
  (local.set $r
    (f32x4.sub
      (f32x4.sub (local.get $a) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $k) (v128.const f32x4 -2.1219444e-4 -2.1219444e-4 -2.1219444e-4 -2.1219444e-4))))
  ;; e^r by Horner: ((((((r/7! + 1/6!)·r + 1/5!)·r + 1/4!)·r + 1/3!)·r + 1/2)·r + 1)·r + 1
  v128.const f32x4 1.984126984126984e-4 1.984126984126984e-4 1.984126984126984e-4 1.984126984126984e-4
  local.get $r  f32x4.mul  v128.const f32x4 0.001388888888888889 0.001388888888888889 0.001388888888888889 0.001388888888888889  f32x4.add
  local.get $r  f32x4.mul  v128.const f32x4 0.008333333333333333 0.008333333333333333 0.008333333333333333 0.008333333333333333  f32x4.add
  local.get $r  f32x4.mul  v128.const f32x4 0.041666666666666664 0.041666666666666664 0.041666666666666664 0.041666666666666664  f32x4.add
  local.get $r  f32x4.mul  v128.const f32x4 0.16666666666666666 0.16666666666666666 0.16666666666666666 0.16666666666666666  f32x4.add
  local.get $r  f32x4.mul  v128.const f32x4 0.5 0.5 0.5 0.5  f32x4.add
  local.get $r  f32x4.mul  v128.const f32x4 1 1 1 1  f32x4.add
  local.get $r  f32x4.mul  v128.const f32x4 1 1 1 1  f32x4.add
  ;; × 2^k: (k + 127) << 23 is 2^k's bit pattern.
  (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23))
  f32x4.mul)

;; Φ(x), the standard normal CDF, in every lane, and e^(−x²/2) on the way (φ's exponential, which
;; geluGrad needs). Φ(−|x|) = ½·erfc(|x|/√2) by Abramowitz & Stegun 7.1.26 (|erfc error| ≤ 1.5e-7):
;; erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²), t = 1/(1 + p·z), z ≥ 0; then
;; Φ(x) = 1 − Φ(−x) for x ≥ 0.
(func $normalCdf (param $x v128) (result v128 v128) ;; Φ(x), e^(−x²/2)
  (local $z v128) (local $t v128) (local $e v128)
  (local.set $z (f32x4.mul (f32x4.abs (local.get $x)) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476)))
  (local.set $t
    (f32x4.div
      (v128.const f32x4 1 1 1 1)
      (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911) (local.get $z)))))
  ;; e^(−z²) = e^(−x²/2)
  (local.set $e (call $expNonPositive (f32x4.neg (f32x4.mul (local.get $z) (local.get $z)))))
  ;; tail = Φ(−|x|) = ½·t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²), by Horner from a5
  v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429
  local.get $t  f32x4.mul  v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027  f32x4.add
  local.get $t  f32x4.mul  v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741  f32x4.add
  local.get $t  f32x4.mul  v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736  f32x4.add
  local.get $t  f32x4.mul  v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592  f32x4.add
  local.get $t  f32x4.mul
  local.get $e  f32x4.mul
  v128.const f32x4 0.5 0.5 0.5 0.5  f32x4.mul
  local.set $t
  ;; Φ(x) = x ≥ 0 ? 1 − tail : tail
  (v128.bitselect
    (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $t))
    (local.get $t)
    (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0)))
  (local.get $e))
