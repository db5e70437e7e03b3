;; dx = dy·(Φ(x) + x·φ(x)) over n4 vectors of 4 floats, with φ(x) = e^(−x²/2)/√(2π).
(local $v v128) (local $phi v128) (local $e v128)
(block $done
  (loop $vector
    (br_if $done (i32.eqz (local.get $n4)))
    (local.set $v (v128.load align=4 (local.get $x)))
    (call $normalCdf (local.get $v))
    (local.set $e)
    (local.set $phi)
    (v128.store align=4 (local.get $dx)
      (f32x4.mul
        (v128.load align=4 (local.get $dy))
        (f32x4.add
          (local.get $phi)
          (f32x4.mul
            (f32x4.mul (local.get $v) (local.get $e))
            (v128.const f32x4 0.3989422804014327 0.3989422804014327 0.3989422804014327 0.3989422804014327))))) ;; 1/√(2π)
    (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
    (local.set $x (i32.add (local.get $x) (i32.const 16)))
    (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
    (local.set $n4 (i32.sub (local.get $n4) (i32.const 1)))
    (br $vector)))
