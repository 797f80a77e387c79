// Where a training step's time and arithmetic go, kernel by kernel: the backend wrapped in a proxy
// that adds each method's wall time and call count, and counts each kernel's floating-point
// operations from its arguments, over a few eager steps. (bench/profile.ts times the same way for
// the benchmarks; src/ cannot import bench/, and the lab also needs the FLOPs.)
//
// FLOPs: src/backend/kernel-cost.ts (the conventions are written there).

import type { Backend } from '../../backend/backend.ts';
import { kernelFlops } from '../../backend/kernel-cost.ts';
import type { Batch } from '../../data/corpus.ts';
import { GPT, type GPTConfig } from '../../models/gpt.ts';
import { AdamW } from '../../optim/adamw.ts';
import { optimizationStep } from '../../train/step.ts';

/** Methods that manage memory rather than run kernels (their time is reported apart). */
const MEMORY_METHODS = new Set(['alloc', 'view', 'free', 'write', 'read', 'readSync', 'memoryStats']);

/** The order kernels are reported in: the compute kernels of a step, then data movement, then memory methods. */
export const KERNEL_ORDER: readonly string[] = [
  'matmul',
  'attentionForward',
  'attentionBackward',
  'layerNormForward',
  'layerNormBackward',
  'rmsNormForward',
  'rmsNormBackward',
  'batchNormForward',
  'batchNormBackward',
  'softmaxForward',
  'softmaxBackward',
  'logSoftmaxForward',
  'logSoftmaxBackward',
  'crossEntropyForward',
  'crossEntropyBackward',
  'unary',
  'unaryBackward',
  'binary',
  'affine',
  'axpy',
  'reduce',
  'equal',
  'dropoutForward',
  'adamw',
  'embeddingForward',
  'embeddingBackward',
  'conv2dForward',
  'conv2dBackward',
  'maxPool2dForward',
  'maxPool2dBackward',
  'avgPool2dForward',
  'avgPool2dBackward',
  'stridedCopy',
  'cast',
  'fill',
  'alloc',
  'view',
  'free',
  'write',
  'read',
];

export interface KernelStat {
  name: string;
  calls: number;
  /** Per step. */
  ms: number;
  flops: number;
}

export interface KernelProfile {
  /** Wall time of one eager step, everything included. */
  stepMs: number;
  /** Per step, by backend method in KERNEL_ORDER (memory methods included; unknown methods last, by name). */
  kernels: KernelStat[];
  /** Sums per step. */
  kernelMs: number;
  flops: number;
  steps: number;
}

/** The backend seen through a proxy that times and counts every method call into `stats`. */
export function profiledBackend(be: Backend, stats: Map<string, { calls: number; ms: number; flops: number }>): Backend {
  return new Proxy(be, {
    get(target, prop, recv) {
      // No capture through the proxy: a replayed step would run kernels the proxy never sees.
      if (prop === 'beginCapture' || prop === 'endCapture') return undefined;
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        const ms = performance.now() - t0;
        const s = stats.get(prop) ?? { calls: 0, ms: 0, flops: 0 };
        s.calls++;
        s.ms += ms;
        s.flops += kernelFlops(prop, args);
        stats.set(prop, s);
        return r;
      };
    },
  });
}

/**
 * A fresh model of `config` (seeded) trained eagerly on `batches` through the profiled backend; the
 * first batch warms up and is not counted. Everything it allocates is freed.
 */
export async function profileTraining(o: { config: GPTConfig; backend: Backend; seed: number; batches: readonly Batch[]; B: number; T: number; lr: number }): Promise<KernelProfile> {
  if (o.batches.length < 2) throw new RangeError('profileTraining needs a warm-up batch and at least one more');
  const stats = new Map<string, { calls: number; ms: number; flops: number }>();
  const be = profiledBackend(o.backend, stats);
  const model = GPT.create(o.config, { backend: be, seed: o.seed });
  const opt = new AdamW(model.store!, { lr: o.lr, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
  try {
    const step = (b: Batch) => optimizationStep(model, opt, b.x, b.y, o.B, o.T, { gradClip: 1, lr: o.lr });
    await step(o.batches[0]);
    stats.clear();
    const n = o.batches.length - 1;
    const t0 = performance.now();
    for (const b of o.batches.slice(1)) await step(b);
    const stepMs = (performance.now() - t0) / n;
    // One fixed order (and every known kernel, 0 when not called), so that runs and arms line up.
    const names = [...KERNEL_ORDER, ...[...stats.keys()].filter((k) => !KERNEL_ORDER.includes(k)).sort()];
    const kernels = names.map((name) => {
      const s = stats.get(name) ?? { calls: 0, ms: 0, flops: 0 };
      return { name, calls: s.calls / n, ms: s.ms / n, flops: s.flops / n };
    });
    const compute = kernels.filter((k) => !MEMORY_METHODS.has(k.name));
    return { stepMs, kernels, kernelMs: compute.reduce((a, k) => a + k.ms, 0), flops: kernels.reduce((a, k) => a + k.flops, 0), steps: n };
  } finally {
    model.store!.release();
    for (const s of [opt.m, opt.v]) o.backend.free(s);
  }
}

/** The kernels of a normalization kind: the fused LayerNorm and RMSNorm kernels, forward and backward. */
export const NORM_KERNELS = { layernorm: ['layerNormForward', 'layerNormBackward'], rmsnorm: ['rmsNormForward', 'rmsNormBackward'] } as const;

/** Time and FLOPs of the named kernels, and their shares of the step. */
export function shareOf(p: KernelProfile, names: readonly string[]): { ms: number; flops: number; timeShare: number; flopShare: number } {
  const ks = p.kernels.filter((k) => names.includes(k.name));
  const ms = ks.reduce((a, k) => a + k.ms, 0);
  const flops = ks.reduce((a, k) => a + k.flops, 0);
  return { ms, flops, timeShare: ms / p.stepMs, flopShare: p.flops > 0 ? flops / p.flops : 0 };
}

export { MEMORY_METHODS, kernelFlops };
