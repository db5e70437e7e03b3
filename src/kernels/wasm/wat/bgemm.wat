;; `count` products C_i = A_i·B_i (gemm.wat; the same m, n, k and strides for each), the operands
;; of each sa, sb, sc bytes after the previous one's: a batch of attention heads.
(block $done
  (loop $product
    (br_if $done (i32.eqz (local.get $count)))
    (call $gemm
      (local.get $a) (local.get $b) (local.get $c)
      (local.get $m) (local.get $n) (local.get $k) (local.get $am) (local.get $ak) (local.get $bk) (local.get $cm))
    (local.set $a (i32.add (local.get $a) (local.get $sa)))
    (local.set $b (i32.add (local.get $b) (local.get $sb)))
    (local.set $c (i32.add (local.get $c) (local.get $sc)))
    (local.set $count (i32.sub (local.get $count) (i32.const 1)))
    (br $product)))
