/**
 * Activation recomputation (gradient checkpointing) for one segment of the model, usually a block:
 * the forward pass keeps only the segment's input; the backward pass runs the segment again from
 * that input, differentiates it, and frees everything it made before the next segment's turn.
 *
 * Without it, every tensor a gradient needs is kept from the forward pass until the backward pass
 * reaches it (gradients.ts frees each as soon as it is used), so a step's memory peaks at layers ×
 * tokens × width × batch. With it, what is kept is one [T, D] input per segment plus one segment's
 * activations at a time, for about one extra forward pass.
 * It works with any kernels (their own custom gradients run inside the segment) on any backend.
 */
import * as tf from '@tensorflow/tfjs';
import { gradientsOf } from './gradients';

interface EngineTape {
  state: { activeTape: unknown[] | null };
}

/**
 * y = f(x), differentiable with respect to x and to `trainables` (the variables f uses that
 * train; frozen weights f closes over get no gradient), recomputing f during the backward pass.
 * `f` must be deterministic (no dropout inside: draw masks outside the segment).
 */
export function recomputed<T extends tf.Tensor>(f: (x: T) => T, x: T, trainables: tf.Variable[]): T {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as T;
    (args[args.length - 1] as tf.GradSaveFunc)([input]);
    return {
      // Runs inside the custom op: nothing here is taped, and every intermediate is freed on return.
      value: f(input),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const engine = tf.engine() as unknown as EngineTape;
        // A gradient computed inside the backward pass starts a fresh tape and leaves null behind;
        // the outer backward pass still needs its own tape afterwards (to free what it saved).
        const outerTape = engine.state.activeTape;
        try {
          return tf.tidy(() => {
            const xs = [saved[0], ...trainables];
            const { value, grads } = gradientsOf(() => f(saved[0] as T), xs, dy, true);
            value.dispose();
            return xs.map((t, i) => grads[i] ?? tf.zerosLike(t));
          });
        } finally {
          engine.state.activeTape = outerTape;
        }
      },
    };
  });
  return run(x, ...trainables) as T;
}

/**
 * After an error in the middle of a gradient computation (a full heap, a lost device), tfjs keeps
 * the abandoned tape and every tensor it saved (they are `kept`, so no tidy frees them). Free them,
 * so that a retry starts from the memory it had. Does nothing while a gradient is being computed.
 */
export function releaseAbandonedTape(): void {
  const engine = tf.engine() as unknown as { state: { activeTape: { saved?: tf.Tensor[] }[] | null; gradientDepth: number } };
  if (engine.state.gradientDepth !== 0 || !engine.state.activeTape) return;
  for (const node of engine.state.activeTape) for (const t of node.saved ?? []) t.dispose();
  engine.state.activeTape = null;
}
