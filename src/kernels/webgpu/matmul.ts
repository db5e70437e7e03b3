/**
 * Tiled matmul for the ViT's linear layers: C[M, N] = op(A)·op(B) (+ bias[N]), where op is an
 * optional transpose read straight from the stored layout, so the backward products
 * dX = dY·Wᵀ (transB) and dW = Xᵀ·dY (transA) never materialise a transpose.
 *
 * 64×64 output tile per workgroup of 16×16 threads, each thread a 4×4 block (four vec4
 * accumulators); K is walked in slices of 16 staged in workgroup memory. Global loads are vec4
 * along each operand's contiguous axis when that axis is a multiple of 4 (bound as vec4
 * arrays), otherwise four bounds-checked scalar loads. The bias add is fused into the epilogue.
 */
import type * as tf from '@tensorflow/tfjs';
import { defineKernel, key, load4Snippet, runKernel, type WebGPUProgram } from './common';

const TILE = 64;
const TK = 16;

interface MatMulShape {
  transA: boolean;
  transB: boolean;
  /** Stored shapes. */
  aShape: [number, number];
  bShape: [number, number];
  bias: boolean;
}

function matmulProgram(s: MatMulShape): WebGPUProgram {
  const M = s.transA ? s.aShape[1] : s.aShape[0];
  const K = s.transA ? s.aShape[0] : s.aShape[1];
  const N = s.transB ? s.bShape[0] : s.bShape[1];
  const Kb = s.transB ? s.bShape[1] : s.bShape[0];
  if (K !== Kb) throw new Error(`lab matmul: inner dimensions ${K} and ${Kb} differ.`);
  const alignA = s.aShape[1] % 4 === 0;
  const alignB = s.bShape[1] % 4 === 0;
  const alignOut = N % 4 === 0;
  const variableNames = s.bias ? ['A', 'B', 'bias'] : ['A', 'B'];
  const variableComponents = [alignA ? 4 : 1, alignB ? 4 : 1, ...(s.bias ? [alignOut ? 4 : 1] : [])];

  // Tile loads: 256 threads, one vec4 each per operand. Shared tiles are k-major: X[k * 64 + m].
  const loadA = s.transA
    ? `{ let k = t / 16; let m4 = (t % 16) * 4;
         let v = loadA4(k0 + k, row0 + m4, uniforms.aShape.x, uniforms.aShape.y);
         As[k * 64 + m4] = v.x; As[k * 64 + m4 + 1] = v.y; As[k * 64 + m4 + 2] = v.z; As[k * 64 + m4 + 3] = v.w; }`
    : `{ let m = t / 4; let kq = (t % 4) * 4;
         let v = loadA4(row0 + m, k0 + kq, uniforms.aShape.x, uniforms.aShape.y);
         As[kq * 64 + m] = v.x; As[(kq + 1) * 64 + m] = v.y; As[(kq + 2) * 64 + m] = v.z; As[(kq + 3) * 64 + m] = v.w; }`;
  const loadB = s.transB
    ? `{ let n = t / 4; let kq = (t % 4) * 4;
         let v = loadB4(col0 + n, k0 + kq, uniforms.bShape.x, uniforms.bShape.y);
         Bs[kq * 64 + n] = v.x; Bs[(kq + 1) * 64 + n] = v.y; Bs[(kq + 2) * 64 + n] = v.z; Bs[(kq + 3) * 64 + n] = v.w; }`
    : `{ let k = t / 16; let n4 = (t % 16) * 4;
         let v = loadB4(k0 + k, col0 + n4, uniforms.bShape.x, uniforms.bShape.y);
         Bs[k * 64 + n4] = v.x; Bs[k * 64 + n4 + 1] = v.y; Bs[k * 64 + n4 + 2] = v.z; Bs[k * 64 + n4 + 3] = v.w; }`;

  const biasRead = !s.bias
    ? 'vec4<f32>(0.0)'
    : alignOut
      ? 'bias[col / 4]'
      : `vec4<f32>(bias[min(col, N - 1)], bias[min(col + 1, N - 1)], bias[min(col + 2, N - 1)], bias[min(col + 3, N - 1)])`;
  const store = alignOut
    ? `if (col < N) { setOutputAtIndex((row * N + col) / 4, v); }`
    : `if (col < N) { setOutputAtIndex(row * N + col, v.x); }
       if (col + 1 < N) { setOutputAtIndex(row * N + col + 1, v.y); }
       if (col + 2 < N) { setOutputAtIndex(row * N + col + 2, v.z); }
       if (col + 3 < N) { setOutputAtIndex(row * N + col + 3, v.w); }`;

  return {
    outputShape: [M, N],
    shaderKey: key('matmul', [s.transA, s.transB, alignA, alignB, alignOut, s.bias]),
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(N / TILE), Math.ceil(M / TILE), 1],
    variableNames,
    variableComponents,
    outputComponent: alignOut ? 4 : 1,
    workgroupSize: [16, 16, 1],
    getUserCode: () => `
      var<workgroup> As : array<f32, ${TILE * TK}>;
      var<workgroup> Bs : array<f32, ${TILE * TK}>;
      ${load4Snippet('loadA4', 'A', alignA)}
      ${load4Snippet('loadB4', 'B', alignB)}
      fn main() {
        let M = uniforms.outShape.x;
        let N = uniforms.outShape.y;
        let K = ${s.transA ? 'uniforms.aShape.x' : 'uniforms.aShape.y'};
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let t = ty * 16 + tx;
        let row0 = i32(workgroupId.y) * ${TILE};
        let col0 = i32(workgroupId.x) * ${TILE};
        var acc : array<vec4<f32>, 4>;
        for (var i = 0; i < 4; i++) { acc[i] = vec4<f32>(0.0); }
        for (var k0 = 0; k0 < K; k0 += ${TK}) {
          ${loadA}
          ${loadB}
          workgroupBarrier();
          for (var k = 0; k < ${TK}; k++) {
            let ab = k * 64 + ty * 4;
            let bb = k * 64 + tx * 4;
            let b = vec4<f32>(Bs[bb], Bs[bb + 1], Bs[bb + 2], Bs[bb + 3]);
            acc[0] = fma(vec4<f32>(As[ab]), b, acc[0]);
            acc[1] = fma(vec4<f32>(As[ab + 1]), b, acc[1]);
            acc[2] = fma(vec4<f32>(As[ab + 2]), b, acc[2]);
            acc[3] = fma(vec4<f32>(As[ab + 3]), b, acc[3]);
          }
          workgroupBarrier();
        }
        let col = col0 + tx * 4;
        if (col >= N) { return; }
        let bv = ${biasRead};
        for (var i = 0; i < 4; i++) {
          let row = row0 + ty * 4 + i;
          if (row < M) {
            let v = acc[i] + bv;
            ${store}
          }
        }
      }`,
  };
}

defineKernel('LabMatMul', (inputs, attrs) => {
  const [a, b] = inputs;
  return {
    program: matmulProgram({
      transA: !!attrs.transA,
      transB: !!attrs.transB,
      aShape: a.shape as [number, number],
      bShape: b.shape as [number, number],
      bias: inputs.length > 2,
    }),
  };
});

/** op(a)·op(b) (+ bias) on the lab kernel; a, b rank 2, float32. */
export function labMatMul(a: tf.Tensor2D, b: tf.Tensor2D, opts: { transA?: boolean; transB?: boolean; bias?: tf.Tensor1D | null } = {}): tf.Tensor2D {
  const inputs = opts.bias ? [a, b, opts.bias] : [a, b];
  return runKernel('LabMatMul', inputs, { transA: !!opts.transA, transB: !!opts.transB }) as tf.Tensor2D;
}
