;; y = x·Φ(x) over n4 vectors of 4 floats (the exact GELU; Φ in math.wat).
(local $v v128) (local $phi v128)
(block $done
  (loop $vector
    (br_if $done (i32.eqz (local.get $n4)))
    (local.set $v (v128.load align=4 (local.get $x)))
    (call $normalCdf (local.get $v))
    drop ;; e^(−x²/2): only the gradient needs it
    (local.set $phi)
    (v128.store align=4 (local.get $y) (f32x4.mul (local.get $v) (local.get $phi)))
    (local.set $x (i32.add (local.get $x) (i32.const 16)))
    (local.set $y (i32.add (local.get $y) (i32.const 16)))
    (local.set $n4 (i32.sub (local.get $n4) (i32.const 1)))
    (br $vector)))
