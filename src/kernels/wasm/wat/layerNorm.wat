;; Per row of x [rows, d], d = d4·4: the mean, then the biased variance of the centred row,
;; r = 1/√(var + eps) (into rs, one float a row), x̂ = (x − mean)·r (into xh: the gradient needs it)
;; and y = x̂·g + b. Three passes over a row, which stays in cache.
(local $p i32) (local $end i32)               ;; the row's vector and one past the row, in x
(local $gp i32) (local $bp i32) (local $yp i32) (local $hp i32) ;; the same vector in g, b, y, xh
(local $r f32)                                ;; 1/√(var + eps)
(local $d f32)                                ;; the row length
(local $acc v128) (local $v v128)
(local $meanv v128) (local $rv v128)          ;; mean and r in every lane
(local.set $d (f32.convert_i32_u (i32.shl (local.get $d4) (i32.const 2))))
(block $done
  (loop $row
    (br_if $done (i32.eqz (local.get $rows)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $d4) (i32.const 4))))
    ;; mean = Σ x / d
    (local.set $acc (v128.const f32x4 0 0 0 0))
    (local.set $p (local.get $x))
    (block $summed
      (loop $sum
        (br_if $summed (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $acc (f32x4.add (local.get $acc) (v128.load align=4 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $sum)))
    (local.set $meanv (f32x4.splat (f32.div (call $hsum (local.get $acc)) (local.get $d))))
    ;; r = 1/√(Σ(x − mean)²/d + eps)
    (local.set $acc (v128.const f32x4 0 0 0 0))
    (local.set $p (local.get $x))
    (block $squared
      (loop $square
        (br_if $squared (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f32x4.sub (v128.load align=4 (local.get $p)) (local.get $meanv)))
        (local.set $acc (f32x4.add (f32x4.mul (local.get $v) (local.get $v)) (local.get $acc)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $square)))
    (local.set $r
      (f32.div
        (f32.const 1)
        (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (local.get $d)) (local.get $eps)))))
    (f32.store (local.get $rs) (local.get $r))
    (local.set $rs (i32.add (local.get $rs) (i32.const 4)))
    (local.set $rv (f32x4.splat (local.get $r)))
    ;; x̂ = (x − mean)·r; y = x̂·g + b
    (local.set $p (local.get $x))
    (local.set $gp (local.get $g))
    (local.set $bp (local.get $b))
    (local.set $yp (local.get $y))
    (local.set $hp (local.get $xh))
    (block $normalised
      (loop $normalise
        (br_if $normalised (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f32x4.mul (f32x4.sub (v128.load align=4 (local.get $p)) (local.get $meanv)) (local.get $rv)))
        (v128.store align=4 (local.get $hp) (local.get $v))
        (v128.store align=4 (local.get $yp)
          (f32x4.add (f32x4.mul (local.get $v) (v128.load align=4 (local.get $gp))) (v128.load align=4 (local.get $bp))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 16)))
        (local.set $yp (i32.add (local.get $yp) (i32.const 16)))
        (local.set $hp (i32.add (local.get $hp) (i32.const 16)))
        (br $normalise)))
    (local.set $x (local.get $end))
    (local.set $y (local.get $yp))
    (local.set $xh (local.get $hp))
    (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
    (br $row)))
