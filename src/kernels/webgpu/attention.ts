/**
 * Fused (flash-style) attention for q, k, v [BH, T, hd], hd ≤ 128, any T.
 *
 * Forward: one thread per query row (BR rows per workgroup); keys and values stream through
 * workgroup memory in tiles of BC, and each tile updates a running max m, running sum l and the
 * output accumulator (online softmax), so the T×T score matrix is never written. In training the
 * row log-sum-exp (m + log l) is written after the output (one packed buffer) for the backward.
 *
 * Backward (P = exp(S − lse), D = rowsum(dO∘O)):
 *   dQ = scale · Σ_j dS_ij K_j                 (one thread per query row, K/V tiles streamed)
 *   dK = scale · Σ_i dS_ij Q_i,  dS = P∘(dO·Vᵀ − D)   (one thread per key row, Q/dO tiles streamed)
 *   dV = Σ_i P_ij dO_i                          (one thread per key row)
 * Each recomputes the scores of its tile from the saved log-sum-exp; no T×T buffer exists.
 */
import * as tf from '@tensorflow/tfjs';
import { defineKernel, key, runKernel, tapeOn, type WebGPUProgram } from './common';

export const MAX_HEAD_DIM = 128;
const BR = 32;
const BC = 16;

type Mode = 'fwd' | 'fwd_lse' | 'dq' | 'dk' | 'dv';

const GRAD_INPUTS: Record<Mode, string[]> = {
  fwd: ['Q', 'K', 'V'],
  fwd_lse: ['Q', 'K', 'V'],
  dq: ['Q', 'K', 'V', 'dO', 'lse', 'Dd'],
  dk: ['Q', 'K', 'V', 'dO', 'lse', 'Dd'],
  dv: ['Q', 'K', 'dO', 'lse'],
};

function rowLoad(fn: string, name: string, hd: number, aligned: boolean): string {
  const hd4 = Math.ceil(hd / 4);
  if (aligned) return `fn ${fn}(row : i32, d : i32) -> vec4<f32> { return ${name}[row * ${hd4} + d]; }`;
  return `fn ${fn}(row : i32, d : i32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    let b = row * ${hd};
    let c = d * 4;
    if (c < ${hd}) { v.x = ${name}[b + c]; }
    if (c + 1 < ${hd}) { v.y = ${name}[b + c + 1]; }
    if (c + 2 < ${hd}) { v.z = ${name}[b + c + 2]; }
    if (c + 3 < ${hd}) { v.w = ${name}[b + c + 3]; }
    return v;
  }`;
}

function attnProgram(mode: Mode, bh: number, t: number, hd: number): WebGPUProgram {
  const hd4 = Math.ceil(hd / 4);
  const aligned = hd % 4 === 0;
  // Only the inputs the shader reads ('auto' layouts drop unused bindings).
  const names = GRAD_INPUTS[mode];
  const components = names.map((n) => (aligned && n !== 'lse' && n !== 'Dd' ? 4 : 1));
  const outputShape = mode === 'fwd_lse' ? [bh * t * hd + bh * t] : [bh, t, hd];
  const loads = ['Q', 'K', 'V', 'dO']
    .filter((n) => names.includes(n))
    .map((n) => rowLoad(`ld${n}`, n, hd, aligned))
    .join('\n');
  const byKey = mode === 'dk' || mode === 'dv';
  // What streams through workgroup memory: K/V tiles for query-row modes, Q/dO tiles for key-row modes.
  const tileA = byKey ? 'ldQ' : 'ldK';
  const tileB = byKey ? 'lddO' : 'ldV';
  const writeRow = (acc: string, factor: string) => `
        for (var d = 0; d < ${hd4}; d++) {
          let v = ${acc}[d] * ${factor};
          for (var c = 0; c < 4; c++) {
            if (d * 4 + c < ${hd}) { setOutputAtIndex(row * ${hd} + d * 4 + c, v[c]); }
          }
        }`;

  let body: string;
  if (mode === 'fwd' || mode === 'fwd_lse') {
    body = `
      var m = -1e30;
      var l = 0.0;
      var acc : array<vec4<f32>, ${hd4}>;
      for (var j0 = 0; j0 < T; j0 += ${BC}) {
        loadTile(j0, T, rowBase);
        var s : array<f32, ${BC}>;
        var tmax = -1e30;
        for (var j = 0; j < ${BC}; j++) {
          var dotv = 0.0;
          for (var d = 0; d < ${hd4}; d++) { dotv += dot(a[d], TA[j * ${hd4} + d]); }
          s[j] = select(-1e30, dotv * uniforms.scale, j0 + j < T);
          tmax = max(tmax, s[j]);
        }
        let mNew = max(m, tmax);
        let corr = exp(m - mNew);
        l = l * corr;
        for (var d = 0; d < ${hd4}; d++) { acc[d] = acc[d] * corr; }
        for (var j = 0; j < ${BC}; j++) {
          let p = select(0.0, exp(s[j] - mNew), j0 + j < T);
          l += p;
          for (var d = 0; d < ${hd4}; d++) { acc[d] = fma(vec4<f32>(p), TB[j * ${hd4} + d], acc[d]); }
        }
        m = mNew;
        workgroupBarrier();
      }
      if (valid) {
        ${writeRow('acc', '(1.0 / l)')}
        ${mode === 'fwd_lse' ? `setOutputAtIndex(uniforms.qShape.x * T * ${hd} + row, m + log(l));` : ''}
      }`;
  } else {
    // a = this thread's row of Q (dq) or K (dk, dv); b = its dO row (dq) or V row (dk).
    const needsB = mode !== 'dv';
    body = `
      var acc : array<vec4<f32>, ${hd4}>;
      var b : array<vec4<f32>, ${hd4}>;
      ${needsB ? `if (valid) { for (var d = 0; d < ${hd4}; d++) { b[d] = ${mode === 'dq' ? 'lddO' : 'ldV'}(row, d); } }` : ''}
      ${mode === 'dq' ? 'let rowLse = select(0.0, lse[row], valid); let rowD = select(0.0, Dd[row], valid);' : ''}
      for (var j0 = 0; j0 < T; j0 += ${BC}) {
        loadTile(j0, T, rowBase);
        for (var j = 0; j < ${BC}; j++) {
          if (j0 + j < T) {
            var sv = 0.0;
            for (var d = 0; d < ${hd4}; d++) { sv += dot(a[d], TA[j * ${hd4} + d]); }
            ${
              mode === 'dq'
                ? `let p = exp(sv * uniforms.scale - rowLse);
            var dp = 0.0;
            for (var d = 0; d < ${hd4}; d++) { dp += dot(b[d], TB[j * ${hd4} + d]); }
            let w = p * (dp - rowD);
            for (var d = 0; d < ${hd4}; d++) { acc[d] = fma(vec4<f32>(w), TA[j * ${hd4} + d], acc[d]); }`
                : mode === 'dk'
                  ? `let p = exp(sv * uniforms.scale - TL[j]);
            var dp = 0.0;
            for (var d = 0; d < ${hd4}; d++) { dp += dot(b[d], TB[j * ${hd4} + d]); }
            let w = p * (dp - TD[j]);
            for (var d = 0; d < ${hd4}; d++) { acc[d] = fma(vec4<f32>(w), TA[j * ${hd4} + d], acc[d]); }`
                  : `let p = exp(sv * uniforms.scale - TL[j]);
            for (var d = 0; d < ${hd4}; d++) { acc[d] = fma(vec4<f32>(p), TB[j * ${hd4} + d], acc[d]); }`
            }
          }
        }
        workgroupBarrier();
      }
      if (valid) { ${writeRow('acc', mode === 'dv' ? '1.0' : 'uniforms.scale')} }`;
  }

  return {
    outputShape,
    shaderKey: key(`attn_${mode}`, [hd, aligned, BR, BC]),
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(t / BR), bh, 1],
    variableNames: names,
    variableComponents: components,
    uniforms: 'scale : f32,',
    workgroupSize: [BR, 1, 1],
    getUserCode: () => `
      var<workgroup> TA : array<vec4<f32>, ${BC * hd4}>;
      var<workgroup> TB : array<vec4<f32>, ${BC * hd4}>;
      ${byKey ? `var<workgroup> TL : array<f32, ${BC}>;\n      var<workgroup> TD : array<f32, ${BC}>;` : ''}
      ${loads}
      fn loadTile(j0 : i32, T : i32, rowBase : i32) {
        let lid = i32(localId.x);
        for (var e = lid; e < ${BC * hd4}; e += ${BR}) {
          let j = e / ${hd4};
          let d = e - j * ${hd4};
          if (j0 + j < T) {
            TA[e] = ${tileA}(rowBase + j0 + j, d);
            TB[e] = ${tileB}(rowBase + j0 + j, d);
          } else {
            TA[e] = vec4<f32>(0.0);
            TB[e] = vec4<f32>(0.0);
          }
        }
        ${
          byKey
            ? `for (var e = lid; e < ${BC}; e += ${BR}) {
          let ok = j0 + e < T;
          TL[e] = select(0.0, lse[min(rowBase + j0 + e, rowBase + T - 1)], ok);
          ${mode === 'dk' ? `TD[e] = select(0.0, Dd[min(rowBase + j0 + e, rowBase + T - 1)], ok);` : ''}
        }`
            : ''
        }
        workgroupBarrier();
      }
      fn main() {
        let T = uniforms.qShape.y;
        let rowBase = i32(workgroupId.y) * T;
        let r = i32(workgroupId.x) * ${BR} + i32(localId.x);
        let valid = r < T;
        let row = rowBase + min(r, T - 1);
        var a : array<vec4<f32>, ${hd4}>;
        if (valid) { for (var d = 0; d < ${hd4}; d++) { a[d] = ${byKey ? 'ldK' : 'ldQ'}(row, d); } }
        ${body}
      }`,
  };
}

for (const [name, mode] of [
  ['LabAttention', 'fwd'],
  ['LabAttentionLse', 'fwd_lse'],
  ['LabAttentionGradQ', 'dq'],
  ['LabAttentionGradK', 'dk'],
  ['LabAttentionGradV', 'dv'],
] as [string, Mode][]) {
  defineKernel(name, (inputs, attrs) => {
    const [bh, t, hd] = inputs[0].shape;
    return { program: attnProgram(mode, bh, t, hd), uniforms: [{ type: 'float32', data: [Number(attrs.scale)] }] };
  });
}

/** softmax(q·kᵀ·scale)·v for q, k, v [BH, T, hd] (hd ≤ 128) with fused WebGPU kernels. */
export function labAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const [bh, t, hd] = q.shape;
  const attrs = { scale };
  if (!tapeOn()) return runKernel('LabAttention', [q, k, v], attrs) as tf.Tensor3D;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi] = args as tf.Tensor3D[];
    const packed = runKernel('LabAttentionLse', [qi, ki, vi], attrs);
    const n = bh * t * hd;
    const o = tf.reshape(tf.slice(packed, [0], [n]), [bh, t, hd]) as tf.Tensor3D;
    const lse = tf.reshape(tf.slice(packed, [n], [bh * t]), [bh, t]);
    (args[3] as tf.GradSaveFunc)([qi, ki, vi, o, lse]);
    return {
      value: o,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, ks, vs, os, ls] = saved;
        const dd = tf.sum(tf.mul(dy, os), -1); // D = rowsum(dO∘O) [BH, T]
        const inputs = [qs, ks, vs, dy, ls, dd];
        return [
          runKernel('LabAttentionGradQ', inputs, attrs),
          runKernel('LabAttentionGradK', inputs, attrs),
          runKernel('LabAttentionGradV', [qs, ks, dy, ls], attrs),
        ];
      },
    };
  });
  return f(q, k, v) as tf.Tensor3D;
}
