// Reverse-mode automatic differentiation over recorded ops (a tape built by links, as in micrograd).
// Ops call `record` to attach a GradNode when grad mode is on and an input needs a gradient;
// `backward` walks the graph in reverse topological order and accumulates gradients.

import { empty, ones, type Tensor, type GradNode } from './tensor.ts';
import { ShapeError, fmt, sameShape } from './shape.ts';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording ops (evaluation, sampling, optimizer updates, backward passes). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attaches `backward` to `out` if any input requires a gradient and grad mode is on. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/** Post-order over the graph under `root`, without recursion (graphs of deep models are long). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const inp of t.node?.inputs ?? []) if (inp.requiresGrad && !visited.has(inp)) stack.push([inp, false]);
  }
  return order;
}

/**
 * Computes d(root)/d(leaf) for every leaf that requires a gradient and adds it to `leaf.grad`.
 * `gradRoot` defaults to 1 for a one-element root.
 */
export function backward(root: Tensor, gradRoot?: Tensor): void {
  if (!root.requiresGrad) throw new Error('backward(): the tensor does not require a gradient (no parameter contributed to it, or it was computed under noGrad)');
  let seed = gradRoot;
  if (!seed) {
    if (root.size !== 1) throw new ShapeError(`backward(): the root has shape ${fmt(root.shape)}; pass its gradient explicitly or reduce it to a scalar`);
    seed = ones(root.shape, { backend: root.backend, dtype: root.dtype });
  } else if (!sameShape(seed.shape, root.shape)) {
    throw new ShapeError(`backward(): gradient shape ${fmt(seed.shape)} does not match the root's ${fmt(root.shape)}`);
  }
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const order = topoOrder(root);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        accumulateLeaf(t, g);
        continue;
      }
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((inp, j) => {
        const gi = inputGrads[j];
        if (!gi || !inp.requiresGrad) return;
        const prev = grads.get(inp);
        // Out of place: an op's backward may hand the same gradient tensor to several inputs.
        grads.set(inp, prev ? sumOf(prev, gi) : gi);
      });
    }
  });
}

/** Parameters own a persistent gradient buffer and accumulate into it; other leaves get a copy. */
function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad) leaf.backend.axpy(g.storage, leaf.grad.storage, 1);
  else leaf.grad = sumOf(g, null);
}

/** a + b (or a copy of a) in a fresh buffer, in one pass: every element is written, so none is zero-filled first. */
function sumOf(a: Tensor, b: Tensor | null): Tensor {
  const out = empty(a.shape, { backend: a.backend, dtype: a.dtype });
  if (b) a.backend.binary('add', a.storage, a.shape, b.storage, b.shape, out.storage, out.shape);
  else a.backend.cast(a.storage, out.storage);
  return out;
}
