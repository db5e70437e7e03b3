/**
 * Shared plumbing for the lab's WebGPU kernels: programs in tfjs-backend-webgpu's own format
 * (WebGPUProgram: the backend generates bindings, the `uniforms` struct with every input's shape
 * and our own fields, and `_start`, which calls our `main`), registered as tfjs kernels under
 * lab-specific names so they run through `tf.engine().runKernel` like any op.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUProgram };

export type Uniform = { type: 'int32' | 'float32' | 'uint32'; data: number[] };

/** What a lab kernel does: build the program (and uniforms) for these inputs. */
export type ProgramFactory = (inputs: tf.TensorInfo[], attrs: Record<string, unknown>) => { program: WebGPUProgram; uniforms?: Uniform[] };

/** Register `name` on the webgpu backend once (tfjs' own registry says whether it is there). */
export function defineKernel(name: string, factory: ProgramFactory): void {
  if (tf.getKernel(name, 'webgpu')) return;
  tf.registerKernel({
    kernelName: name,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const list = Object.keys(inputs)
        .sort()
        .map((k) => (inputs as Record<string, tf.TensorInfo>)[k]);
      const { program, uniforms } = factory(list, (attrs ?? {}) as Record<string, unknown>);
      return (backend as unknown as WebGPUBackend).runWebGPUProgram(program, list, 'float32', uniforms as never);
    },
  });
}

/**
 * Run a lab kernel. Inputs are passed in order; the kernel sees them in the same order
 * (keys are zero-padded so the sort in defineKernel keeps it).
 */
export function runKernel(name: string, inputs: tf.Tensor[], attrs: Record<string, unknown> = {}): tf.Tensor {
  const named: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (named[`in${String(i).padStart(2, '0')}`] = t));
  return tf.engine().runKernel(name, named as never, attrs as never) as tf.Tensor;
}

/** True when the lab kernels can run here: the active backend is tfjs' WebGPU backend. */
export function onWebGPU(): boolean {
  return tf.getBackend() === 'webgpu';
}

/** True while tfjs records a gradient tape (training), false for plain inference. */
export function tapeOn(): boolean {
  return tf.engine().isTapeOn();
}

/** Linear workgroup index, robust to tfjs reshaping a too-large 1-D dispatch. */
export const WG_INDEX = `i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x)`;

/** A stable shader key: the kernel name and every structural constant baked into the code. */
export function key(name: string, parts: (string | number | boolean)[]): string {
  return `lab_${name}_${parts.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)).join('_')}`;
}

/** A 4-element load along the contiguous axis of a row-major [rows, cols] matrix `name`. */
export function load4Snippet(fnName: string, name: string, aligned: boolean): string {
  // aligned: the binding is vec4 (cols % 4 == 0), so a vec4 is entirely in or out of bounds.
  if (aligned) {
    return `fn ${fnName}(r : i32, c : i32, rows : i32, cols : i32) -> vec4<f32> {
      if (r < rows && c < cols) { return ${name}[(r * cols + c) / 4]; }
      return vec4<f32>(0.0);
    }`;
  }
  return `fn ${fnName}(r : i32, c : i32, rows : i32, cols : i32) -> vec4<f32> {
      var v = vec4<f32>(0.0);
      if (r < rows) {
        let base = r * cols;
        if (c < cols) { v.x = ${name}[base + c]; }
        if (c + 1 < cols) { v.y = ${name}[base + c + 1]; }
        if (c + 2 < cols) { v.z = ${name}[base + c + 2]; }
        if (c + 3 < cols) { v.w = ${name}[base + c + 3]; }
      }
      return v;
    }`;
}
