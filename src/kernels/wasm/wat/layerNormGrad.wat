;; LayerNorm's backward pass, per row of dy [rows, d], d = d4·4, from layerNorm's x̂ (xh) and r (rs):
;; with ĝ = dy·g, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))·r; and dg = Σ_rows dy·x̂, db = Σ_rows dy,
;; added in row order. Not split over threads: dg and db sum over every row.
(local $p i32) (local $end i32)               ;; the row's vector and one past the row, in dy
(local $hp i32) (local $gp i32) (local $op i32) ;; the same vector in xh, g, dx
(local $gq i32) (local $bq i32)               ;; the same vector in dg, db
(local $d f32)                                ;; the row length
(local $sumG v128) (local $sumGX v128)        ;; Σ ĝ and Σ ĝ·x̂ over the row, by lane
(local $dyv v128) (local $xhv v128) (local $gd v128)
(local $meanG v128) (local $meanGX v128) (local $rv v128) ;; mean(ĝ), mean(ĝ·x̂) and r in every lane
(local.set $d (f32.convert_i32_u (i32.shl (local.get $d4) (i32.const 2))))
;; dg = db = 0
(local.set $gq (local.get $dg))
(local.set $end (i32.add (local.get $dg) (i32.shl (local.get $d4) (i32.const 4))))
(block $dgZeroed
  (loop $zeroDg
    (br_if $dgZeroed (i32.ge_u (local.get $gq) (local.get $end)))
    (v128.store align=4 (local.get $gq) (v128.const f32x4 0 0 0 0))
    (local.set $gq (i32.add (local.get $gq) (i32.const 16)))
    (br $zeroDg)))
(local.set $gq (local.get $db))
(local.set $end (i32.add (local.get $db) (i32.shl (local.get $d4) (i32.const 4))))
(block $dbZeroed
  (loop $zeroDb
    (br_if $dbZeroed (i32.ge_u (local.get $gq) (local.get $end)))
    (v128.store align=4 (local.get $gq) (v128.const f32x4 0 0 0 0))
    (local.set $gq (i32.add (local.get $gq) (i32.const 16)))
    (br $zeroDb)))
(block $done
  (loop $row
    (br_if $done (i32.eqz (local.get $rows)))
    (local.set $end (i32.add (local.get $dy) (i32.shl (local.get $d4) (i32.const 4))))
    ;; the row's sums, and its terms of dg and db
    (local.set $sumG (v128.const f32x4 0 0 0 0))
    (local.set $sumGX (v128.const f32x4 0 0 0 0))
    (local.set $p (local.get $dy))
    (local.set $hp (local.get $xh))
    (local.set $gp (local.get $g))
    (local.set $gq (local.get $dg))
    (local.set $bq (local.get $db))
    (block $summed
      (loop $sum
        (br_if $summed (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $dyv (v128.load align=4 (local.get $p)))
        (local.set $xhv (v128.load align=4 (local.get $hp)))
        (local.set $gd (f32x4.mul (local.get $dyv) (v128.load align=4 (local.get $gp))))
        (local.set $sumG (f32x4.add (local.get $gd) (local.get $sumG)))
        (local.set $sumGX (f32x4.add (f32x4.mul (local.get $gd) (local.get $xhv)) (local.get $sumGX)))
        (v128.store align=4 (local.get $gq) (f32x4.add (v128.load align=4 (local.get $gq)) (f32x4.mul (local.get $dyv) (local.get $xhv))))
        (v128.store align=4 (local.get $bq) (f32x4.add (v128.load align=4 (local.get $bq)) (local.get $dyv)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $hp (i32.add (local.get $hp) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
        (local.set $gq (i32.add (local.get $gq) (i32.const 16)))
        (local.set $bq (i32.add (local.get $bq) (i32.const 16)))
        (br $sum)))
    (local.set $meanG (f32x4.splat (f32.div (call $hsum (local.get $sumG)) (local.get $d))))
    (local.set $meanGX (f32x4.splat (f32.div (call $hsum (local.get $sumGX)) (local.get $d))))
    (local.set $rv (f32x4.splat (f32.load (local.get $rs))))
    ;; dx
    (local.set $p (local.get $dy))
    (local.set $hp (local.get $xh))
    (local.set $gp (local.get $g))
    (local.set $op (local.get $dx))
    (block $rowDone
      (loop $vector
        (br_if $rowDone (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store align=4 (local.get $op)
          (f32x4.mul
            (f32x4.sub
              (f32x4.sub (f32x4.mul (v128.load align=4 (local.get $p)) (v128.load align=4 (local.get $gp))) (local.get $meanG))
              (f32x4.mul (v128.load align=4 (local.get $hp)) (local.get $meanGX)))
            (local.get $rv)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $hp (i32.add (local.get $hp) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
        (local.set $op (i32.add (local.get $op) (i32.const 16)))
        (br $vector)))
    (local.set $dy (local.get $end))
    (local.set $xh (local.get $hp))
    (local.set $dx (local.get $op))
    (local.set $rs (i32.add (local.get $rs) (i32.const 4)))
    (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
    (br $row)))
