/**
 * Exact (erf) GELU with an optional fused bias, forward and backward, element-wise over
 * x [N, C] (bias [C]), vec4 per thread when C is a multiple of 4.
 *
 *   forward   z = x + b,  y = z·Φ(z)
 *   backward  dz = dy·(Φ(z) + z·φ(z)),  dx = dz,  db = Σ_rows dz
 * erf uses Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), the same formula tfjs' Erf kernel uses.
 */
import * as tf from '@tensorflow/tfjs';
import { defineKernel, key, runKernel, type WebGPUProgram } from './common';

const WG = 64;

const erfSnippet = `
  fn erf4(x : vec4<f32>) -> vec4<f32> {
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return sign(x) * y;
  }
  fn cdf4(z : vec4<f32>) -> vec4<f32> { return 0.5 * (1.0 + erf4(z * 0.7071067811865476)); }
  fn pdf4(z : vec4<f32>) -> vec4<f32> { return 0.3989422804014327 * exp(-0.5 * z * z); }`;

function geluProgram(mode: 'fwd' | 'bwd', shape: [number, number], bias: boolean): WebGPUProgram {
  const [n, c] = shape;
  const vec = c % 4 === 0;
  const comp = vec ? 4 : 1;
  const size = n * c;
  const threads = Math.ceil(size / comp);
  const names = mode === 'fwd' ? ['X'] : ['X', 'dy'];
  if (bias) names.push('bias');
  const read = (name: string) => (vec ? `${name}[i]` : `vec4<f32>(${name}[i], 0.0, 0.0, 0.0)`);
  const biasRead = vec ? `bias[i % (C / 4)]` : `vec4<f32>(bias[i % C], 0.0, 0.0, 0.0)`;
  const z = bias ? `${read('X')} + ${biasRead}` : read('X');
  const value = mode === 'fwd' ? `z * cdf4(z)` : `${read('dy')} * (cdf4(z) + z * pdf4(z))`;
  return {
    outputShape: [n, c],
    shaderKey: key(`gelu_${mode}`, [vec, bias]),
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(threads / WG), 1, 1],
    variableNames: names,
    outputComponent: comp,
    size: true,
    workgroupSize: [WG, 1, 1],
    getUserCode: () => `
      ${erfSnippet}
      fn main(index : i32) {
        let i = index;
        let C = uniforms.xShape.y;
        if (i < uniforms.size) {
          let z = ${z};
          let v = ${value};
          setOutputAtIndex(i, ${vec ? 'v' : 'v.x'});
        }
      }`,
  };
}

defineKernel('LabGelu', (inputs) => ({ program: geluProgram('fwd', inputs[0].shape as [number, number], inputs.length > 1) }));
defineKernel('LabGeluGrad', (inputs) => ({ program: geluProgram('bwd', inputs[0].shape as [number, number], inputs.length > 2) }));

/**
 * gelu(x + bias) fused; x of any rank (the bias, if any, runs along the last axis).
 * Gradients: dx, and db when a bias is given.
 */
export function labBiasGelu(x: tf.Tensor, bias: tf.Tensor1D | null = null): tf.Tensor {
  const shape = x.shape;
  const c = shape[shape.length - 1] ?? 1;
  const rows = x.size / Math.max(1, c);
  if (bias) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, bi] = args as tf.Tensor[];
      const x2 = tf.reshape(xi, [rows, c]);
      (args[2] as tf.GradSaveFunc)([x2, bi]);
      return {
        value: tf.reshape(runKernel('LabGelu', [x2, bi]), shape),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const dz = runKernel('LabGeluGrad', [saved[0], tf.reshape(dy, [rows, c]), saved[1]]);
          return [tf.reshape(dz, shape), tf.sum(dz, 0)];
        },
      };
    });
    return f(x, bias);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x2 = tf.reshape(args[0] as tf.Tensor, [rows, c]);
    (args[1] as tf.GradSaveFunc)([x2]);
    return {
      value: tf.reshape(runKernel('LabGelu', [x2]), shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.reshape(runKernel('LabGeluGrad', [saved[0], tf.reshape(dy, [rows, c])]), shape),
    };
  });
  return f(x);
}
