// Reverse-mode automatic differentiation over recorded ops (a tape built by links, as in micrograd).
// Ops call `record` to attach a GradNode when grad mode is on and an input needs a gradient;
// `backward` walks the graph in reverse topological order and accumulates gradients.

import type { BufferRef } from './arena.ts';
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

export interface BackwardOptions {
  /**
   * Frees each recorded tensor's buffer as soon as backward is past it, and each intermediate
   * gradient once it is consumed (PyTorch frees its graph's saved tensors the same way unless
   * retain_graph). Only for a caller that holds no tensor of the graph but the root, such as a
   * training step: any other handle into the graph is freed by it, and a later read of it throws.
   * It halves a step's peak memory: without it every activation and every gradient of the step
   * lives until the step's arena closes.
   */
  freeGraph?: boolean;
}

/**
 * Computes d(root)/d(leaf) for every leaf that requires a gradient and adds it to `leaf.grad`.
 * `gradRoot` defaults to 1 for a one-element root.
 */
export function backward(root: Tensor, gradRoot?: Tensor, opts: BackwardOptions = {}): void {
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
  const frees = opts.freeGraph ? new GraphFrees(order, root, gradRoot ?? null) : null;
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) {
        frees?.passed(t);
        continue;
      }
      grads.delete(t);
      if (!t.node) {
        accumulateLeaf(t, g);
        frees?.consumed([g], grads);
        continue;
      }
      const inputGrads = t.node.backward(g);
      const spent: Tensor[] = [g];
      t.node.inputs.forEach((inp, j) => {
        const gi = inputGrads[j];
        if (!gi || !inp.requiresGrad) {
          if (gi) spent.push(gi);
          return;
        }
        const prev = grads.get(inp);
        // Out of place: an op's backward may hand the same gradient tensor to several inputs.
        if (prev) spent.push(prev, gi);
        grads.set(inp, prev ? sumOf(prev, gi) : gi);
      });
      frees?.passed(t);
      frees?.consumed(spent, grads);
    }
  });
}

/**
 * backward's freeGraph bookkeeping. A recorded tensor's value is read only by its own backward and
 * by its consumers', which all run before it (reverse topological order), so once backward is past
 * it no one needs it. Views share a BufferRef, so a buffer is freed when the last recorded tensor on
 * it is passed. A spent gradient is freed unless a pending gradient, or a tensor not yet passed,
 * shares its buffer (backwards may hand one gradient to several inputs, or return a view of it).
 */
class GraphFrees {
  /** Recorded tensors not yet passed, per buffer. */
  private readonly pending = new Map<BufferRef, number>();
  private readonly keep: ReadonlySet<BufferRef>;

  constructor(order: readonly Tensor[], root: Tensor, gradRoot: Tensor | null) {
    for (const t of order) if (t.node) this.pending.set(t.buf, (this.pending.get(t.buf) ?? 0) + 1);
    // The root stays (the caller reads the loss), and a gradient the caller passed in is the caller's.
    // A leaf's buffer (a parameter, an input) is never the graph's, though a recorded view of it (a
    // reshaped weight) shares it: passing that view must not free the parameter.
    this.keep = new Set([root.buf, ...(gradRoot ? [gradRoot.buf] : []), ...order.filter((t) => !t.node).map((t) => t.buf)]);
  }

  passed(t: Tensor): void {
    if (!t.node) return;
    const n = this.pending.get(t.buf)! - 1;
    this.pending.set(t.buf, n);
    if (n === 0 && !this.keep.has(t.buf)) t.buf.release();
  }

  consumed(spent: readonly Tensor[], grads: ReadonlyMap<Tensor, Tensor>): void {
    const live = new Set<BufferRef>();
    for (const v of grads.values()) live.add(v.buf);
    for (const s of spent) {
      if (live.has(s.buf) || this.keep.has(s.buf) || (this.pending.get(s.buf) ?? 0) > 0) continue;
      s.buf.release();
    }
  }
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
