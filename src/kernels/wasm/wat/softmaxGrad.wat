;; The softmax's backward pass per row of p, dp, ds [rows, n], any n, at any 4-byte offset:
;; ds = p·(dp − Σ_j dp_j·p_j). The dot product in vector lanes then the ragged tail one float at a
;; time, then one pass for ds (vectors, then the tail).
(local $a i32) (local $b i32) (local $c i32) ;; the same element of p, dp, ds
(local $end4 i32)                            ;; one past the row's whole vectors, in p
(local $end i32)                             ;; one past the row, in p
(local $s f32)                               ;; Σ_j dp_j·p_j
(local $acc v128) (local $sv v128)
(block $done
  (loop $row
    (br_if $done (i32.eqz (local.get $rows)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4))))
    ;; s = Σ dp·p
    (local.set $acc (v128.const f32x4 0 0 0 0))
    (local.set $a (local.get $p))
    (local.set $b (local.get $dp))
    (block $vectorsSummed
      (loop $sumVector
        (br_if $vectorsSummed (i32.ge_u (local.get $a) (local.get $end4)))
        (local.set $acc (f32x4.add (f32x4.mul (v128.load align=4 (local.get $a)) (v128.load align=4 (local.get $b))) (local.get $acc)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $sumVector)))
    (local.set $s (call $hsum (local.get $acc)))
    (block $tailSummed
      (loop $sumTail
        (br_if $tailSummed (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s (f32.add (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b))) (local.get $s)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $sumTail)))
    ;; ds = p·(dp − s)
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $a (local.get $p))
    (local.set $b (local.get $dp))
    (local.set $c (local.get $ds))
    (block $vectorsDone
      (loop $vector
        (br_if $vectorsDone (i32.ge_u (local.get $a) (local.get $end4)))
        (v128.store align=4 (local.get $c)
          (f32x4.mul (v128.load align=4 (local.get $a)) (f32x4.sub (v128.load align=4 (local.get $b)) (local.get $sv))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $vector)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $a) (local.get $end)))
        (f32.store (local.get $c) (f32.mul (f32.load (local.get $a)) (f32.sub (f32.load (local.get $b)) (local.get $s))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $tail)))
    (local.set $p (local.get $end))
    (local.set $dp (local.get $b))
    (local.set $ds (local.get $c))
    (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
    (br $row)))
