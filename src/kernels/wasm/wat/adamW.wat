;; One AdamW update over n4 vectors of 4 floats, each operation in the order of the tfjs expression
;; it replaces (src/train/optimizer.ts), so the two agree to the bit:
;;   m2 = m·b1 + g·(1−b1);  v2 = v·b2 + g²·(1−b2);  w2 = w·decay − ((m2 / c1) / (√(v2 / c2) + eps))·lr
(local $grad v128) (local $mNew v128) (local $vNew v128)
;; the scalars in every lane
(local $b1v v128) (local $oneMinusB1v v128) (local $b2v v128) (local $oneMinusB2v v128)
(local $decayv v128) (local $c1v v128) (local $c2v v128) (local $epsv v128) (local $lrv v128)
(local.set $b1v (f32x4.splat (local.get $b1)))
(local.set $oneMinusB1v (f32x4.splat (local.get $oneMinusB1)))
(local.set $b2v (f32x4.splat (local.get $b2)))
(local.set $oneMinusB2v (f32x4.splat (local.get $oneMinusB2)))
(local.set $decayv (f32x4.splat (local.get $decay)))
(local.set $c1v (f32x4.splat (local.get $c1)))
(local.set $c2v (f32x4.splat (local.get $c2)))
(local.set $epsv (f32x4.splat (local.get $eps)))
(local.set $lrv (f32x4.splat (local.get $lr)))
(block $done
  (loop $vector
    (br_if $done (i32.eqz (local.get $n4)))
    (local.set $grad (v128.load align=4 (local.get $g)))
    (v128.store align=4 (local.get $m2)
      (local.tee $mNew
        (f32x4.add
          (f32x4.mul (v128.load align=4 (local.get $m)) (local.get $b1v))
          (f32x4.mul (local.get $grad) (local.get $oneMinusB1v)))))
    (v128.store align=4 (local.get $v2)
      (local.tee $vNew
        (f32x4.add
          (f32x4.mul (v128.load align=4 (local.get $v)) (local.get $b2v))
          (f32x4.mul (f32x4.mul (local.get $grad) (local.get $grad)) (local.get $oneMinusB2v)))))
    (v128.store align=4 (local.get $w2)
      (f32x4.sub
        (f32x4.mul (v128.load align=4 (local.get $w)) (local.get $decayv))
        (f32x4.mul
          (f32x4.div
            (f32x4.div (local.get $mNew) (local.get $c1v))
            (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vNew) (local.get $c2v))) (local.get $epsv)))
          (local.get $lrv))))
    (local.set $w (i32.add (local.get $w) (i32.const 16)))
    (local.set $g (i32.add (local.get $g) (i32.const 16)))
    (local.set $m (i32.add (local.get $m) (i32.const 16)))
    (local.set $v (i32.add (local.get $v) (i32.const 16)))
    (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
    (local.set $m2 (i32.add (local.get $m2) (i32.const 16)))
    (local.set $v2 (i32.add (local.get $v2) (i32.const 16)))
    (local.set $n4 (i32.sub (local.get $n4) (i32.const 1)))
    (br $vector)))
