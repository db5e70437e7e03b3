/**
 * Gradients as tfjs computes them (the same kernels, the same gradient functions, in the same
 * order, so the same numbers to the bit), but with memory released the way PyTorch's autograd
 * releases it: as soon as the backward pass is done with it.
 *
 * tfjs' `engine.gradients` (tape.js `backpropagateGradients`) keeps, until the whole backward pass
 * ends,
 *   - every tensor each kernel saved for its gradient, though a node's saved tensors are read
 *     once, when that node's gradient runs;
 *   - the gradient of every intermediate tensor, though it is read once, by the node that made
 *     the tensor; and each partial gradient beside the sum it was added into;
 *   - whatever a custom gradient function makes outside its own scope;
 *   - the saved tensors of nodes that are on no path from the variables to the loss.
 * So the backward pass ends holding all of the forward pass's saved activations plus a gradient of
 * about the same size for each: about twice what PyTorch holds at its peak. Here each node's
 * gradient runs in its own scope; then its saved tensors are disposed and its outputs' gradients
 * released (a gradient tensor shared by several entries, as a pass-through gradient is, goes when
 * its last holder does); nodes off the path lose their saved tensors before the backward starts.
 * What the walk reads of the tape (nodes' inputs, outputs, gradient and saved tensors) is tfjs
 * 4.22's; the pruning of the tape is tape.js `getFilteredNodesXToY`, rewritten here.
 */
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: tf.Tensor[] };
}

/**
 * The nodes on a path from `xs` to `y`, in tape order, each with only its inputs that depend on
 * `xs` (what tape.js `getFilteredNodesXToY` returns).
 */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): { node: TapeNode; inputs: [string, tf.Tensor][] }[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      node.outputs.forEach((o) => fromX.add(o.id));
      nodesFromX.add(node.id);
    }
  }
  const leadsToY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      for (const t of Object.values(node.inputs)) leadsToY.add(t.id);
      nodesToY.add(node.id);
    }
  }
  return tape
    .filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id))
    .map((node) => ({ node, inputs: Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id)) }));
}

function disposeSaved(node: TapeNode): void {
  for (const t of node.saved ?? []) t.dispose();
  node.saved = [];
}

/**
 * y = f() and dy/dx for each x of `xs` (null where y does not depend on x), with `dy` as the
 * gradient flowing into y (default ones), as `engine.gradients` gives them; see the file comment
 * for what it frees early. Inside another gradient's recording (a higher-order gradient) it is
 * tfjs' own.
 */
export function gradientsOf(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients = false): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth > 0) return engine.gradients(f, xs, dy, allowNoGradients);
  if (!xs.length) throw new Error('gradientsOf() received an empty list of xs.');
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = engine.state.activeTape ?? [];
  let done = false;
  try {
    const path = nodesFromXToY(tape, xs, y);
    if (!allowNoGradients && path.length === 0)
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    const onPath = new Set(path.map((p) => p.node.id));
    for (const node of tape) if (!onPath.has(node.id)) disposeSaved(node);
    const result = engine.tidy('backward', () => {
      // Gradient by tensor id, and how many entries hold each gradient tensor (one tensor may be
      // the gradient of several: a pass-through gradient is its node's dy itself).
      const grad = new Map<number, tf.Tensor>();
      const holders = new Map<tf.Tensor, number>();
      const hold = (id: number, g: tf.Tensor) => {
        grad.set(id, g);
        holders.set(g, (holders.get(g) ?? 0) + 1);
      };
      const seed = dy ?? tf.ones(y.shape);
      const release = (g: tf.Tensor) => {
        const n = (holders.get(g) ?? 1) - 1;
        if (n > 0) holders.set(g, n);
        else {
          holders.delete(g);
          if (g !== dy) g.dispose(); // the caller's dy is the caller's
        }
      };
      const keep = new Set(xs.map((x) => x.id));
      hold(y.id, seed);
      for (let i = path.length - 1; i >= 0; i--) {
        const { node, inputs } = path[i];
        if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        const dys = node.outputs.map((o) => grad.get(o.id) ?? null);
        // One scope for the node: whatever its gradient function makes (a custom gradient's too,
        // and the zeros standing in for an output off the path) dies here but the input gradients.
        const dxs = engine.tidy(() => {
          const fns = node.gradient!(dys);
          return inputs.map(([name]) => {
            if (!(name in fns)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(fns)}.`);
            return fns[name]();
          });
        });
        inputs.forEach(([name, x], k) => {
          const dx = dxs[k];
          if (dx.dtype !== 'float32')
            throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
          if (!tf.util.arraysEqual(dx.shape, x.shape))
            throw new Error(
              `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
            );
          const prev = grad.get(x.id);
          if (!prev) return hold(x.id, dx);
          const sum = tf.add(prev, dx);
          grad.delete(x.id);
          release(prev);
          // dx, unless another entry holds it (then it is not this node's alone).
          if (!holders.has(dx) && dx !== dy) dx.dispose();
          hold(x.id, sum);
        });
        // The node is done: what it saved, and its outputs' gradients, are read by nobody else.
        const inUse = new Set<tf.Tensor>(dxs);
        for (const t of node.saved ?? []) if (!inUse.has(t) && !holders.has(t)) t.dispose();
        node.saved = [];
        for (const o of node.outputs) {
          const g = grad.get(o.id);
          if (!g || keep.has(o.id)) continue;
          grad.delete(o.id);
          release(g);
        }
      }
      return { value: y, grads: xs.map((x) => grad.get(x.id) ?? null) };
    });
    done = true;
    return result;
  } finally {
    if (!done) y.dispose();
    // As engine.gradients does at depth 0 (also after an error, so that nothing stays kept).
    if (engine.state.gradientDepth === 0) {
      for (const node of tape) disposeSaved(node);
      engine.state.activeTape = null;
    }
  }
}

/**
 * `tf.variableGrads` on `gradientsOf`: the scalar f() and its gradient with respect to each
 * trainable variable of `vars`, by variable name (absent where f does not depend on it).
 */
export function variableGradsOf(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const trainable = vars.filter((v) => v.trainable);
  if (!trainable.length) throw new Error('variableGradsOf() expects at least one trainable variable.');
  const { value, grads } = gradientsOf(f, trainable, undefined, true);
  const fail = (message: string) => {
    tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g !== null)]);
    return new Error(message);
  };
  if (!grads.some((g) => g !== null))
    throw fail(
      'Cannot find a connection between any variable and the result of the loss function y=f(x). Please make sure the operations that use variables are inside the function f passed to minimize().',
    );
  if (value.rank !== 0) throw fail(`The f passed in variableGradsOf(f) must return a scalar, but it returned a rank-${value.rank} tensor`);
  const named: Record<string, tf.Tensor> = {};
  trainable.forEach((v, i) => {
    if (grads[i]) named[v.name] = grads[i]!;
  });
  return { value: value as tf.Scalar, grads: named };
}
