;; dst [cols4·4] = Σ_i src [rows, cols4·4] [i, :], adding the rows in order. (tfjs' Sum adds in an
;; order of its own: float32 sums differ from it in the last bits.)
(local $q i32)   ;; the dst vector being added to
(local $end i32) ;; one past dst's last byte
(local.set $end (i32.add (local.get $dst) (i32.shl (local.get $cols4) (i32.const 4))))
;; dst = 0
(local.set $q (local.get $dst))
(block $zeroed
  (loop $zero
    (br_if $zeroed (i32.ge_u (local.get $q) (local.get $end)))
    (v128.store align=4 (local.get $q) (v128.const f32x4 0 0 0 0))
    (local.set $q (i32.add (local.get $q) (i32.const 16)))
    (br $zero)))
;; dst += each row of src
(block $done
  (loop $row
    (br_if $done (i32.eqz (local.get $rows)))
    (local.set $q (local.get $dst))
    (block $rowDone
      (loop $vector
        (br_if $rowDone (i32.ge_u (local.get $q) (local.get $end)))
        (v128.store align=4 (local.get $q) (f32x4.add (v128.load align=4 (local.get $q)) (v128.load align=4 (local.get $src))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vector)))
    (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
    (br $row)))
