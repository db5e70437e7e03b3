/**
 * LayerNorm over the last axis, forward and backward, one workgroup per row with workgroup
 * reductions (two-pass mean/variance, as the stock path computes it).
 *
 *   forward   y = (x − μ)·r·γ + β,  r = 1/√(var + eps)
 *   backward  x̂ = (x − μ)·r,  g = dy·γ
 *             dx = r·(g − mean(g) − x̂·mean(g·x̂))          (per row)
 *             dγ = Σ_rows dy·x̂,  dβ = Σ_rows dy           (per column)
 * The backward first recomputes the row statistics [N, 2] (one cheap pass), then dx per row and
 * dγ/dβ per column block (packed into one [2, D] output).
 */
import * as tf from '@tensorflow/tfjs';
import { defineKernel, key, runKernel, WG_INDEX, type WebGPUProgram } from './common';

const WG = 128;

/** Workgroup sum of `v` into red[0]; every thread reads the result. */
const reduceSnippet = `
  var<workgroup> red : array<f32, ${WG}>;
  fn wgSum(v : f32, lid : i32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = ${WG / 2}; s > 0; s = s / 2) {
      if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
      workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
  }`;

/** Mean and 1/std of row `row` of X [N, D] (D = uniforms.xShape.y). */
const statsSnippet = `
  fn rowStats(row : i32, lid : i32, eps : f32) -> vec2<f32> {
    let D = uniforms.xShape.y;
    let base = row * D;
    var s = 0.0;
    for (var c = lid; c < D; c += ${WG}) { s += X[base + c]; }
    let mean = wgSum(s, lid) / f32(D);
    var q = 0.0;
    for (var c = lid; c < D; c += ${WG}) { let d = X[base + c] - mean; q += d * d; }
    let variance = wgSum(q, lid) / f32(D);
    return vec2<f32>(mean, inverseSqrt(variance + eps));
  }`;

function rowProgram(name: string, variableNames: string[], outputShape: number[], rows: number, body: string): WebGPUProgram {
  return {
    outputShape,
    shaderKey: key(name, []),
    dispatchLayout: { x: [0] },
    dispatch: [rows, 1, 1],
    variableNames,
    uniforms: 'eps : f32,',
    workgroupSize: [WG, 1, 1],
    getUserCode: () => `
      ${reduceSnippet}
      ${statsSnippet}
      fn main(index : i32) {
        let row = ${WG_INDEX};
        let lid = i32(localIndex);
        let D = uniforms.xShape.y;
        let base = row * D;
        ${body}
      }`,
  };
}

// Forward: X [N, D], gamma [D], beta [D] -> Y [N, D].
const epsUniform = (attrs: Record<string, unknown>) => [{ type: 'float32' as const, data: [Number(attrs.eps)] }];

defineKernel('LabLayerNorm', (inputs, attrs) => {
  const [n, d] = inputs[0].shape;
  return {
    uniforms: epsUniform(attrs),
    program: rowProgram(
      'ln_fwd',
      ['X', 'gamma', 'beta'],
      [n, d],
      n,
      `
        let st = rowStats(row, lid, uniforms.eps);
        for (var c = lid; c < D; c += ${WG}) {
          setOutputAtIndex(base + c, (X[base + c] - st.x) * st.y * gamma[c] + beta[c]);
        }`,
    ),
  };
});

// Row statistics: X [N, D] -> [N, 2] (mean, 1/std).
defineKernel('LabLayerNormStats', (inputs, attrs) => {
  const [n] = inputs[0].shape;
  return {
    uniforms: epsUniform(attrs),
    program: rowProgram(
      'ln_stats',
      ['X'],
      [n, 2],
      n,
      `
        let st = rowStats(row, lid, uniforms.eps);
        if (lid == 0) { setOutputAtIndex(row * 2, st.x); setOutputAtIndex(row * 2 + 1, st.y); }`,
    ),
  };
});

// dx: X [N, D], dy [N, D], gamma [D], stats [N, 2] -> dx [N, D].
defineKernel('LabLayerNormGradX', (inputs, attrs) => {
  const [n, d] = inputs[0].shape;
  return {
    uniforms: epsUniform(attrs),
    program: rowProgram(
      'ln_dx',
      ['X', 'dy', 'gamma', 'stats'],
      [n, d],
      n,
      `
        let mean = stats[row * 2];
        let r = stats[row * 2 + 1];
        var sg = 0.0;
        var sgx = 0.0;
        for (var c = lid; c < D; c += ${WG}) {
          let g = dy[base + c] * gamma[c];
          sg += g;
          sgx += g * (X[base + c] - mean) * r;
        }
        let mg = wgSum(sg, lid) / f32(D);
        let mgx = wgSum(sgx, lid) / f32(D);
        for (var c = lid; c < D; c += ${WG}) {
          let xh = (X[base + c] - mean) * r;
          setOutputAtIndex(base + c, r * (dy[base + c] * gamma[c] - mg - xh * mgx));
        }`,
    ),
  };
});

// dgamma, dbeta: X [N, D], dy [N, D], stats [N, 2] -> [2, D]. PC columns × PL row lanes per
// workgroup (16 × 16: D/16 workgroups, so even D = 768 keeps 48 workgroups busy).
const PC = 16;
const PL = 16;
defineKernel('LabLayerNormGradParams', (inputs) => {
  const d = inputs[0].shape[1];
  const program: WebGPUProgram = {
    outputShape: [2, d],
    shaderKey: key('ln_dparams', [PC, PL]),
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(d / PC), 1, 1],
    variableNames: ['X', 'dy', 'stats'],
    workgroupSize: [PC, PL, 1],
    getUserCode: () => `
      var<workgroup> redG : array<f32, ${PC * PL}>;
      var<workgroup> redB : array<f32, ${PC * PL}>;
      fn main() {
        let N = uniforms.xShape.x;
        let D = uniforms.xShape.y;
        let x = i32(localId.x);
        let col = ${WG_INDEX} * ${PC} + x;
        let lane = i32(localId.y);
        var sg = 0.0;
        var sb = 0.0;
        if (col < D) {
          for (var r = lane; r < N; r += ${PL}) {
            let g = dy[r * D + col];
            sg += g * (X[r * D + col] - stats[r * 2]) * stats[r * 2 + 1];
            sb += g;
          }
        }
        redG[lane * ${PC} + x] = sg;
        redB[lane * ${PC} + x] = sb;
        workgroupBarrier();
        if (lane == 0 && col < D) {
          var tg = 0.0;
          var tb = 0.0;
          for (var l = 0; l < ${PL}; l++) { tg += redG[l * ${PC} + x]; tb += redB[l * ${PC} + x]; }
          setOutputAtIndex(col, tg);
          setOutputAtIndex(D + col, tb);
        }
      }`,
  };
  return { program };
});

/** LayerNorm over the last axis with fused WebGPU kernels; same semantics and gradients as the stock op. */
export function labLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  const shape = x.shape;
  const d = shape[shape.length - 1];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, gi, bi] = args as tf.Tensor[];
    const x2 = tf.reshape(xi, [-1, d]);
    (args[3] as tf.GradSaveFunc)([x2, gi]);
    const epsU = { eps };
    return {
      value: tf.reshape(runKernel('LabLayerNorm', [x2, gi, bi], epsU), shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs] = saved;
        const dy2 = tf.reshape(dy, [-1, d]);
        const stats = runKernel('LabLayerNormStats', [xs], epsU);
        const dx = runKernel('LabLayerNormGradX', [xs, dy2, gs, stats], epsU);
        const dp = runKernel('LabLayerNormGradParams', [xs, dy2, stats], epsU);
        const [dgamma, dbeta] = tf.split(tf.reshape(dp, [2, d]), 2, 0).map((t) => tf.reshape(t, [d]));
        return [tf.reshape(dx, shape), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta);
}
