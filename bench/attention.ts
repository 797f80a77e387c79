// Causal attention forward + backward (the fused kernels, q, k, v dense (B, H, T, D)), beside
// PyTorch's explicit attention (q·kᵀ, mask, softmax, ·v, then autograd) at its best thread setting.

import type { FullBackend as Backend, Storage } from '../src/backend/backend.ts';
import { denseHeads } from '../src/backend/kernel-shapes.ts';
import { describeTorch, runTorchTimed } from './python-reference.ts';
import { timeBudgetMs, type Row } from './report.ts';

export interface AttentionCase {
  name: string;
  B: number;
  H: number;
  T: number;
  D: number;
}

/** PyTorch's time for each case at every thread count in `threadCounts` (null without torch). */
export function torchAttention(c: AttentionCase, threadCounts: readonly number[], reps: number) {
  return runTorchTimed({ kind: 'attention', B: c.B, H: c.H, T: c.T, D: c.D, reps }, threadCounts);
}

export function benchAttention(be: Backend, c: AttentionCase, budgetMs: number, label: string,
  torch: ReturnType<typeof torchAttention>): Row {
  const BH = c.B * c.H;
  const n = BH * c.T * c.D;
  const buf = (seed: number): Storage => {
    const s = be.alloc('float32', n);
    be.write(s, Float32Array.from({ length: n }, (_, i) => (((i * 7919 + seed) % 1000) / 1000 - 0.5) * 2));
    return s;
  };
  const [q, k, v, dout] = [buf(1), buf(2), buf(3), buf(4)];
  const [out, dq, dk, dv] = [0, 0, 0, 0].map(() => be.alloc('float32', n));
  const lse = be.alloc('float32', BH * c.T);
  const scale = 1 / Math.sqrt(c.D);
  const dense = denseHeads(c.H, c.T, c.D);
  const ms = timeBudgetMs(() => {
    be.attentionForward(q, k, v, dense, out, dense, lse, c.B, c.H, c.T, c.D, scale, true);
    be.attentionBackward(q, k, v, dense, out, dout, dense, lse, dq, dk, dv, dense, c.B, c.H, c.T, c.D, scale, true);
  }, budgetMs);
  for (const s of [q, k, v, dout, out, dq, dk, dv, lse]) be.free(s);
  return {
    section: 'attention',
    bench: `attention fwd+bwd, ${label}`,
    case: `${c.name}: B=${c.B} H=${c.H} T=${c.T} D=${c.D}`,
    value: ms,
    unit: 'ms',
    lowerIsBetter: true,
    ...(torch ? { reference: { name: `pytorch ${torch.best.threads}t`, value: torch.best.ms }, note: describeTorch(torch) } : {}),
  };
}
