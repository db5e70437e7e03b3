/**
 * Which implementation of the hot operations a benchmark measures: 'lab' (the engine's own:
 * explicit-transpose linear gradients, and any fused kernels registered for the backend) or
 * 'stock' (plain tfjs ops with tfjs' own gradients), so both are measured in the same run.
 */
import { getKernelOverrides, plainLinear, setKernelOverrides, type KernelOverrides } from '../model/ops';

export type KernelChoice = 'lab' | 'stock';

/** Plain tfjs: y = x·W + b with tfjs' own MatMul gradient (transposed products). */
const stockTfjs: KernelOverrides = { linear: plainLinear };

export async function withKernels<T>(choice: KernelChoice, fn: () => Promise<T>): Promise<T> {
  const before = getKernelOverrides();
  setKernelOverrides(choice === 'stock' ? stockTfjs : null);
  try {
    return await fn();
  } finally {
    setKernelOverrides(before);
  }
}
