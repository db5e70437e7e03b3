/**
 * A tensor as plain data: row-major float32 with its shape. Checkpoint readers produce these and
 * never touch tfjs, so they run anywhere and their tests need no backend; the model turns them
 * into tfjs tensors (model/params.ts).
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}
