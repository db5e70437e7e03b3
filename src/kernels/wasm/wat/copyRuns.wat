;; `count` runs of `run` bytes, read srcStride and written dstStride bytes apart: the transposes
;; that swap two axes of runs of several elements (attention's head split and merge).
(block $done
  (loop $copy
    (br_if $done (i32.eqz (local.get $count)))
    (memory.copy (local.get $dst) (local.get $src) (local.get $run))
    (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
    (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
    (local.set $count (i32.sub (local.get $count) (i32.const 1)))
    (br $copy)))
