;; C [m, n] = A [m, k]·B [k, n]. B and C are row-major with row strides bk and cm (bytes); A is
;; read through two strides, am between rows and ak between columns, so A may be a transposed view
;; (A = Xᵀ for X [k, m] is am = 4, ak = 4·m). Tiles of 4 rows × 8 columns, XNNPACK's wasmsimd
;; "splat" tile: each A element broadcast to a vector, two B vectors, eight accumulators in
;; registers. At the right edge, a 4-column tile and then single columns; at the bottom, single
;; rows. Every C element is its sum over k in order. No packing: an attention head's product
;; (197 × 197 × 64) is too small for a packed copy of B to pay for itself.
(local $col i32)                                      ;; the tile's first column, in bytes
(local $end8 i32) (local $end4 i32) (local $end1 i32) ;; column byte limits of the 8-, 4- and 1-column tiles
(local $kk i32)                                       ;; steps of k left
(local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) ;; A [row i, kk]
(local $pb i32)                                       ;; B [kk, col]
(local $cp i32)                                       ;; C [row i, col]
(local $c0l v128) (local $c0r v128) (local $c1l v128) (local $c1r v128) ;; row i of the tile, columns 0–3 (l) and 4–7 (r)
(local $c2l v128) (local $c2r v128) (local $c3l v128) (local $c3r v128)
(local $bl v128) (local $br v128)                     ;; B [kk, col + 0–3] and [kk, col + 4–7]
(local $av v128)                                      ;; A [row i, kk] in every lane
(local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32) ;; row i of a one-column tile
(local $bs f32)                                       ;; B [kk, col]
(local.set $end8 (i32.shl (i32.shr_u (local.get $n) (i32.const 3)) (i32.const 5)))
(local.set $end4 (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
(local.set $end1 (i32.shl (local.get $n) (i32.const 2)))
;; bands of 4 rows of C while 4 are left
(block $rows4Done
  (loop $rows4
    (br_if $rows4Done (i32.lt_u (local.get $m) (i32.const 4)))
    (local.set $col (i32.const 0))
    ;; 4×8 tiles while 8 whole columns are left
    (block $tiles4x8Done
      (loop $tile4x8
        (br_if $tiles4x8Done (i32.ge_u (local.get $col) (local.get $end8)))
        (local.set $c0l (v128.const f32x4 0 0 0 0))
        (local.set $c0r (v128.const f32x4 0 0 0 0))
        (local.set $c1l (v128.const f32x4 0 0 0 0))
        (local.set $c1r (v128.const f32x4 0 0 0 0))
        (local.set $c2l (v128.const f32x4 0 0 0 0))
        (local.set $c2r (v128.const f32x4 0 0 0 0))
        (local.set $c3l (v128.const f32x4 0 0 0 0))
        (local.set $c3r (v128.const f32x4 0 0 0 0))
        (local.set $pa0 (local.get $a))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $am)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $am)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $am)))
        (local.set $pb (i32.add (local.get $b) (local.get $col)))
        (local.set $kk (local.get $k))
        (block $k4x8Done
          (loop $k4x8
            (br_if $k4x8Done (i32.eqz (local.get $kk)))
            (local.set $bl (v128.load align=4 (local.get $pb)))
            (local.set $br (v128.load offset=16 align=4 (local.get $pb)))
            (local.set $av (v128.load32_splat (local.get $pa0)))
            (local.set $c0l (f32x4.add (local.get $c0l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $c0r (f32x4.add (local.get $c0r) (f32x4.mul (local.get $av) (local.get $br))))
            (local.set $av (v128.load32_splat (local.get $pa1)))
            (local.set $c1l (f32x4.add (local.get $c1l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $c1r (f32x4.add (local.get $c1r) (f32x4.mul (local.get $av) (local.get $br))))
            (local.set $av (v128.load32_splat (local.get $pa2)))
            (local.set $c2l (f32x4.add (local.get $c2l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $c2r (f32x4.add (local.get $c2r) (f32x4.mul (local.get $av) (local.get $br))))
            (local.set $av (v128.load32_splat (local.get $pa3)))
            (local.set $c3l (f32x4.add (local.get $c3l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $c3r (f32x4.add (local.get $c3r) (f32x4.mul (local.get $av) (local.get $br))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
            (local.set $pa1 (i32.add (local.get $pa1) (local.get $ak)))
            (local.set $pa2 (i32.add (local.get $pa2) (local.get $ak)))
            (local.set $pa3 (i32.add (local.get $pa3) (local.get $ak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
            (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
            (br $k4x8)))
        (local.set $cp (i32.add (local.get $c) (local.get $col)))
        (v128.store align=4 (local.get $cp) (local.get $c0l))
        (v128.store offset=16 align=4 (local.get $cp) (local.get $c0r))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (v128.store align=4 (local.get $cp) (local.get $c1l))
        (v128.store offset=16 align=4 (local.get $cp) (local.get $c1r))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (v128.store align=4 (local.get $cp) (local.get $c2l))
        (v128.store offset=16 align=4 (local.get $cp) (local.get $c2r))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (v128.store align=4 (local.get $cp) (local.get $c3l))
        (v128.store offset=16 align=4 (local.get $cp) (local.get $c3r))
        (local.set $col (i32.add (local.get $col) (i32.const 32)))
        (br $tile4x8)))
    ;; 4×4 tiles: one, where 4 whole columns are left
    (block $tiles4x4Done
      (loop $tile4x4
        (br_if $tiles4x4Done (i32.ge_u (local.get $col) (local.get $end4)))
        (local.set $c0l (v128.const f32x4 0 0 0 0))
        (local.set $c1l (v128.const f32x4 0 0 0 0))
        (local.set $c2l (v128.const f32x4 0 0 0 0))
        (local.set $c3l (v128.const f32x4 0 0 0 0))
        (local.set $pa0 (local.get $a))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $am)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $am)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $am)))
        (local.set $pb (i32.add (local.get $b) (local.get $col)))
        (local.set $kk (local.get $k))
        (block $k4x4Done
          (loop $k4x4
            (br_if $k4x4Done (i32.eqz (local.get $kk)))
            (local.set $bl (v128.load align=4 (local.get $pb)))
            (local.set $av (v128.load32_splat (local.get $pa0)))
            (local.set $c0l (f32x4.add (local.get $c0l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $av (v128.load32_splat (local.get $pa1)))
            (local.set $c1l (f32x4.add (local.get $c1l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $av (v128.load32_splat (local.get $pa2)))
            (local.set $c2l (f32x4.add (local.get $c2l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $av (v128.load32_splat (local.get $pa3)))
            (local.set $c3l (f32x4.add (local.get $c3l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
            (local.set $pa1 (i32.add (local.get $pa1) (local.get $ak)))
            (local.set $pa2 (i32.add (local.get $pa2) (local.get $ak)))
            (local.set $pa3 (i32.add (local.get $pa3) (local.get $ak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
            (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
            (br $k4x4)))
        (local.set $cp (i32.add (local.get $c) (local.get $col)))
        (v128.store align=4 (local.get $cp) (local.get $c0l))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (v128.store align=4 (local.get $cp) (local.get $c1l))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (v128.store align=4 (local.get $cp) (local.get $c2l))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (v128.store align=4 (local.get $cp) (local.get $c3l))
        (local.set $col (i32.add (local.get $col) (i32.const 16)))
        (br $tile4x4)))
    ;; 4×1 tiles: the last columns, one at a time
    (block $tiles4x1Done
      (loop $tile4x1
        (br_if $tiles4x1Done (i32.ge_u (local.get $col) (local.get $end1)))
        (local.set $s0 (f32.const 0))
        (local.set $s1 (f32.const 0))
        (local.set $s2 (f32.const 0))
        (local.set $s3 (f32.const 0))
        (local.set $pa0 (local.get $a))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $am)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $am)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $am)))
        (local.set $pb (i32.add (local.get $b) (local.get $col)))
        (local.set $kk (local.get $k))
        (block $k4x1Done
          (loop $k4x1
            (br_if $k4x1Done (i32.eqz (local.get $kk)))
            (local.set $bs (f32.load (local.get $pb)))
            (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (local.get $pa0)) (local.get $bs))))
            (local.set $s1 (f32.add (local.get $s1) (f32.mul (f32.load (local.get $pa1)) (local.get $bs))))
            (local.set $s2 (f32.add (local.get $s2) (f32.mul (f32.load (local.get $pa2)) (local.get $bs))))
            (local.set $s3 (f32.add (local.get $s3) (f32.mul (f32.load (local.get $pa3)) (local.get $bs))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
            (local.set $pa1 (i32.add (local.get $pa1) (local.get $ak)))
            (local.set $pa2 (i32.add (local.get $pa2) (local.get $ak)))
            (local.set $pa3 (i32.add (local.get $pa3) (local.get $ak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
            (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
            (br $k4x1)))
        (local.set $cp (i32.add (local.get $c) (local.get $col)))
        (f32.store (local.get $cp) (local.get $s0))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (f32.store (local.get $cp) (local.get $s1))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (f32.store (local.get $cp) (local.get $s2))
        (local.set $cp (i32.add (local.get $cp) (local.get $cm)))
        (f32.store (local.get $cp) (local.get $s3))
        (local.set $col (i32.add (local.get $col) (i32.const 4)))
        (br $tile4x1)))
    (local.set $a (i32.add (local.get $a) (i32.mul (local.get $am) (i32.const 4))))
    (local.set $c (i32.add (local.get $c) (i32.mul (local.get $cm) (i32.const 4))))
    (local.set $m (i32.sub (local.get $m) (i32.const 4)))
    (br $rows4)))
;; bands of 1 row of C: the rows left
(block $rows1Done
  (loop $rows1
    (br_if $rows1Done (i32.lt_u (local.get $m) (i32.const 1)))
    (local.set $col (i32.const 0))
    ;; 1×8 tiles while 8 whole columns are left
    (block $tiles1x8Done
      (loop $tile1x8
        (br_if $tiles1x8Done (i32.ge_u (local.get $col) (local.get $end8)))
        (local.set $c0l (v128.const f32x4 0 0 0 0))
        (local.set $c0r (v128.const f32x4 0 0 0 0))
        (local.set $pa0 (local.get $a))
        (local.set $pb (i32.add (local.get $b) (local.get $col)))
        (local.set $kk (local.get $k))
        (block $k1x8Done
          (loop $k1x8
            (br_if $k1x8Done (i32.eqz (local.get $kk)))
            (local.set $bl (v128.load align=4 (local.get $pb)))
            (local.set $br (v128.load offset=16 align=4 (local.get $pb)))
            (local.set $av (v128.load32_splat (local.get $pa0)))
            (local.set $c0l (f32x4.add (local.get $c0l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $c0r (f32x4.add (local.get $c0r) (f32x4.mul (local.get $av) (local.get $br))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
            (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
            (br $k1x8)))
        (local.set $cp (i32.add (local.get $c) (local.get $col)))
        (v128.store align=4 (local.get $cp) (local.get $c0l))
        (v128.store offset=16 align=4 (local.get $cp) (local.get $c0r))
        (local.set $col (i32.add (local.get $col) (i32.const 32)))
        (br $tile1x8)))
    ;; 1×4 tiles: one, where 4 whole columns are left
    (block $tiles1x4Done
      (loop $tile1x4
        (br_if $tiles1x4Done (i32.ge_u (local.get $col) (local.get $end4)))
        (local.set $c0l (v128.const f32x4 0 0 0 0))
        (local.set $pa0 (local.get $a))
        (local.set $pb (i32.add (local.get $b) (local.get $col)))
        (local.set $kk (local.get $k))
        (block $k1x4Done
          (loop $k1x4
            (br_if $k1x4Done (i32.eqz (local.get $kk)))
            (local.set $bl (v128.load align=4 (local.get $pb)))
            (local.set $av (v128.load32_splat (local.get $pa0)))
            (local.set $c0l (f32x4.add (local.get $c0l) (f32x4.mul (local.get $av) (local.get $bl))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
            (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
            (br $k1x4)))
        (local.set $cp (i32.add (local.get $c) (local.get $col)))
        (v128.store align=4 (local.get $cp) (local.get $c0l))
        (local.set $col (i32.add (local.get $col) (i32.const 16)))
        (br $tile1x4)))
    ;; 1×1 tiles: the last columns, one at a time
    (block $tiles1x1Done
      (loop $tile1x1
        (br_if $tiles1x1Done (i32.ge_u (local.get $col) (local.get $end1)))
        (local.set $s0 (f32.const 0))
        (local.set $pa0 (local.get $a))
        (local.set $pb (i32.add (local.get $b) (local.get $col)))
        (local.set $kk (local.get $k))
        (block $k1x1Done
          (loop $k1x1
            (br_if $k1x1Done (i32.eqz (local.get $kk)))
            (local.set $bs (f32.load (local.get $pb)))
            (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (local.get $pa0)) (local.get $bs))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $ak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bk)))
            (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
            (br $k1x1)))
        (local.set $cp (i32.add (local.get $c) (local.get $col)))
        (f32.store (local.get $cp) (local.get $s0))
        (local.set $col (i32.add (local.get $col) (i32.const 4)))
        (br $tile1x1)))
    (local.set $a (i32.add (local.get $a) (i32.mul (local.get $am) (i32.const 1))))
    (local.set $c (i32.add (local.get $c) (i32.mul (local.get $cm) (i32.const 1))))
    (local.set $m (i32.sub (local.get $m) (i32.const 1)))
    (br $rows1)))
