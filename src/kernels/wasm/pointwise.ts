/**
 * LayerNorm and GELU for the WASM backend, each one node on the gradient tape with a hand-written
 * gradient, for memory.
 *
 * Written as plain tfjs ops, each of these is 5–9 nodes on the tape. tfjs keeps every node's
 * saved inputs until the whole backward pass ends, and every node's output gradient too (tape.js
 * never frees a dy once used), so in a ViT-B/16 FT step at batch 1 the two LayerNorms and the
 * GELU of each block held 270 MB of saved tensors and 400 MB of gradients at the peak (measured
 * with `npm run bench -- --memory`). As one node each, a LayerNorm saves its normalised input
 * [N, D] and 1/σ [N, 1], a GELU its input [N, M], and their gradients are one tensor each.
 * Every temporary of the forward (tfjs runs a custom forward in a tidy) and of the backward (a
 * tidy here) is freed when the call returns.
 */
import * as tf from '@tensorflow/tfjs';

type Saver = tf.GradSaveFunc;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Σ over every axis but the last: [..., D] -> [D] (tfjs' Sum, or a faster one, fused.ts). */
type ColumnSum = (x: tf.Tensor) => tf.Tensor1D;
export const sumLeading: ColumnSum = (x) =>
  tf.sum(
    x,
    Array.from({ length: x.rank - 1 }, (_, i) => i),
  ) as tf.Tensor1D;

/** (x − mean) / sqrt(var + eps) · γ + β over the last axis, biased variance; x [..., D]. */
export function layerNormLean(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  return layerNormWith(sumLeading)(x, gamma, beta, eps);
}

/** layerNormLean with dγ and dβ summed by `columnSum`. */
export const layerNormWith =
  (columnSum: ColumnSum) =>
  (x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor => {
    const f = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
      const [xi, g, b] = args as tf.Tensor[];
      const axis = xi.rank - 1;
      const [normed, rstd] = tf.tidy(() => {
        const centred = tf.sub(xi, tf.mean(xi, axis, true));
        const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axis, true), eps)); // [..., 1]
        return [tf.mul(centred, r), r];
      });
      (args[3] as Saver)([normed, rstd, g]);
      return {
        value: tf.add(tf.mul(normed, g), b),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [xh, r, gs] = saved;
            const gdy = tf.mul(dy, gs); // dL/dx̂ [..., D]
            // dx = (g − mean(g) − x̂ · mean(g ⊙ x̂)) / σ
            const dx = tf.mul(tf.sub(tf.sub(gdy, tf.mean(gdy, axis, true)), tf.mul(xh, tf.mean(tf.mul(gdy, xh), axis, true))), r);
            return [dx, columnSum(tf.mul(dy, xh)), columnSum(dy)]; // dx, dγ, dβ
          }),
      };
    });
    return f(x, gamma, beta);
  };

/** Exact GELU x · Φ(x); gradient Φ(x) + x · φ(x). */
export function geluLean(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const xi = args[0] as tf.Tensor;
    (args[1] as Saver)([xi]);
    return {
      value: tf.mul(tf.mul(xi, 0.5), tf.add(1, tf.erf(tf.mul(xi, Math.SQRT1_2)))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const xs = saved[0];
          const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xs, Math.SQRT1_2)))); // Φ(x)
          const pdf = tf.div(tf.exp(tf.mul(tf.square(xs), -0.5)), SQRT_2PI); // φ(x)
          return tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)));
        }),
    };
  });
  return f(x);
}
