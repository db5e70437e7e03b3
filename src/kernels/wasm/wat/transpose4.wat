;; dst [n, m] = src [m, n]ᵀ over the ⌊m/4⌋·⌊n/4⌋ whole 4×4 blocks of 4-byte elements (the caller,
;; transpose.ts, copies the ragged edge). Each block: four row loads, eight lane shuffles, four
;; column stores. src is read in order, one band of 4 rows at a time; dst is written 4 rows at a time.
(local $srcRow i32)   ;; n·4: bytes from one src row to the next
(local $dstRow i32)   ;; m·4: bytes from one dst row to the next
(local $bands i32)    ;; bands of 4 src rows left
(local $p i32)        ;; the block's top-left element in src
(local $q i32)        ;; the block's top-left element in dst
(local $bandEnd i32)  ;; one past the band's last whole block in its first row
(local $a v128) (local $b v128) (local $c v128) (local $d v128)     ;; the block's 4 rows
(local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) ;; rows interleaved in pairs
(local.set $srcRow (i32.shl (local.get $n) (i32.const 2)))
(local.set $dstRow (i32.shl (local.get $m) (i32.const 2)))
(local.set $bands (i32.shr_u (local.get $m) (i32.const 2)))
(block $done
  (loop $band
    (br_if $done (i32.eqz (local.get $bands)))
    (local.set $p (local.get $src))
    (local.set $q (local.get $dst))
    (local.set $bandEnd (i32.add (local.get $src) (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4))))
    (block $bandDone
      (loop $block
        (br_if $bandDone (i32.ge_u (local.get $p) (local.get $bandEnd)))
        (local.set $a (v128.load align=4 (local.get $p)))
        (local.set $b (v128.load align=4 (i32.add (local.get $p) (local.get $srcRow))))
        (local.set $c (v128.load align=4 (i32.add (i32.add (local.get $p) (local.get $srcRow)) (local.get $srcRow))))
        (local.set $d (v128.load align=4 (i32.add (i32.add (i32.add (local.get $p) (local.get $srcRow)) (local.get $srcRow)) (local.get $srcRow))))
        ;; i8x16.shuffle picks bytes: 0–15 from the first operand, 16–31 from the second.
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))         ;; a0 b0 a1 b1
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))   ;; a2 b2 a3 b3
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))         ;; c0 d0 c1 d1
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))   ;; c2 d2 c3 d3
        (v128.store align=4 (local.get $q)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))                   ;; a0 b0 c0 d0
        (v128.store align=4 (i32.add (local.get $q) (local.get $dstRow))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))             ;; a1 b1 c1 d1
        (v128.store align=4 (i32.add (i32.add (local.get $q) (local.get $dstRow)) (local.get $dstRow))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))                   ;; a2 b2 c2 d2
        (v128.store align=4 (i32.add (i32.add (i32.add (local.get $q) (local.get $dstRow)) (local.get $dstRow)) (local.get $dstRow))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))             ;; a3 b3 c3 d3
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $dstRow) (i32.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $block)))
    (local.set $src (i32.add (local.get $src) (i32.shl (local.get $srcRow) (i32.const 2))))
    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
    (local.set $bands (i32.sub (local.get $bands) (i32.const 1)))
    (br $band)))
