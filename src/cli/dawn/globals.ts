/**
 * Must be the first import of a Dawn entry point: puts Dawn's WebGPU (the npm `webgpu` package,
 * Chrome's implementation) on `navigator.gpu` before tfjs loads, because tfjs' WebGPU backend
 * registers itself only if `navigator.gpu` exists when its module runs.
 */
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
