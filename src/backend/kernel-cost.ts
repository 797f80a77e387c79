// What one Backend call costs in arithmetic and in memory traffic, computed from its arguments, and
// the name a profile files it under. Profiles divide these by measured time to give GFLOP/s and
// GB/s; both the lab's eager profile and the bench's captured-step profile use this one table.
//
// FLOP conventions (an add or multiply is 1; exp, log, sqrt, tanh, sigmoid 4; GELU 8): matmul
// 2·m·n·k per product; LayerNorm and BatchNorm 8 per element forward (mean 1, variance 3, normalize 2,
// affine 2) and 13 backward; RMSNorm 5 and 9; softmax 5 and 4; cross-entropy 4 and 4 per logit; attention
// 4·Tq·Tk·D + 5·Tq·Tk per head forward and 10·Tq·Tk·D + 5·Tq·Tk backward, halved when causal over
// a square; convolution 2·B·Cout·Ho·Wo·Cin·kH·kW forward and twice that backward (data and filter);
// AdamW 12 per parameter. Copies, fills, casts, gathers and pooling count 0: they move data.
//
// Bytes: every buffer argument once, at its whole length (a view at its view's length). That is the
// traffic of a kernel that streams each operand once; a kernel that re-reads an operand (a tiled
// matmul, attention's K and V per query block) moves more, so its GB/s here is a lower bound.

import type { AttentionKeys, Backend, Conv2dArgs, DType, LaunchLabel, MatmulArgs, Pool2dArgs, Storage, UnaryOp } from './backend.ts';
import { BYTES_PER_ELEMENT } from './backend.ts';

const UNARY_COST: Record<UnaryOp, number> = { neg: 1, relu: 1, exp: 4, log: 4, sqrt: 4, tanh: 4, sigmoid: 4, gelu: 8, gelu_tanh: 8 };

const len = (s: unknown) => (s as Storage).length;
const num = (x: unknown) => x as number;

function isStorage(x: unknown): x is Storage {
  return typeof x === 'object' && x !== null && 'dtype' in x && 'length' in x && typeof (x as Storage).length === 'number' && (x as Storage).dtype in BYTES_PER_ELEMENT;
}

/** Attention's score count per (b, h): Tq·Tk, halved when causal over a square (the masked half is skipped). */
function scorePairs(T: number, causal: unknown, keys: unknown): number {
  const Tk = (keys as AttentionKeys | undefined)?.Tk ?? T;
  return causal && Tk === T ? (T * T) / 2 : T * Tk;
}

function convFlops(a: Conv2dArgs): number {
  return 2 * a.B * a.Cout * a.Ho * a.Wo * a.Cin * a.kH * a.kW;
}

/** Floating-point operations of one backend call (0 for data movement and memory methods). */
export function kernelFlops(method: string, args: readonly unknown[]): number {
  switch (method) {
    case 'matmul': {
      const a = args[3] as MatmulArgs;
      return 2 * a.batch * a.m * a.n * a.k;
    }
    case 'layerNormForward':
      return 8 * num(args[6]) * num(args[7]);
    case 'layerNormBackward':
      return 13 * num(args[8]) * num(args[9]);
    case 'rmsNormForward':
      return 5 * num(args[4]) * num(args[5]);
    case 'rmsNormBackward':
      return 9 * num(args[6]) * num(args[7]);
    case 'batchNormForward':
      return 8 * num(args[7]) * num(args[8]) * num(args[9]);
    case 'batchNormBackward':
      return 13 * num(args[8]) * num(args[9]) * num(args[10]);
    case 'softmaxForward':
    case 'logSoftmaxForward':
      return 5 * num(args[2]) * num(args[3]);
    case 'softmaxBackward':
    case 'logSoftmaxBackward':
      return 4 * num(args[3]) * num(args[4]);
    case 'crossEntropyForward':
      return 4 * num(args[4]) * num(args[5]);
    case 'crossEntropyBackward':
      return 4 * num(args[5]) * num(args[6]);
    case 'attentionForward': {
      const [B, H, T, D] = [7, 8, 9, 10].map((i) => num(args[i]));
      return B * H * scorePairs(T, args[12], args[13]) * (4 * D + 5);
    }
    case 'attentionBackward': {
      const [B, H, T, D] = [12, 13, 14, 15].map((i) => num(args[i]));
      return B * H * scorePairs(T, args[17], args[18]) * (10 * D + 5);
    }
    case 'conv2dForward':
      return convFlops(args[4] as Conv2dArgs);
    case 'conv2dBackward': {
      // Data and filter gradients each cost the forward's products; the bias gradient is a sum.
      const a = args[6] as Conv2dArgs;
      return (args[3] ? 1 : 0) * convFlops(a) + (args[4] ? 1 : 0) * convFlops(a) + (args[5] ? a.B * a.Cout * a.Ho * a.Wo : 0);
    }
    case 'unary':
      return UNARY_COST[args[0] as UnaryOp] * len(args[1]);
    case 'unaryBackward':
      return 2 * UNARY_COST[args[0] as UnaryOp] * len(args[1]);
    case 'affine':
    case 'axpy':
      return 2 * len(args[0]);
    case 'binary':
      return len(args[5]);
    case 'equal':
      return len(args[0]);
    case 'reduce':
      return (args[0] === 'sumsq' ? 2 : 1) * len(args[1]);
    case 'embeddingBackward':
      return num(args[3]) * num(args[4]);
    case 'dropoutForward':
      return 2 * len(args[0]);
    case 'adamw':
      return 12 * len(args[0]);
    default:
      return 0;
  }
}

/** Bytes of every buffer argument of one call, each once at its length (see the file comment). */
export function kernelBytes(args: readonly unknown[]): number {
  let bytes = 0;
  const add = (x: unknown) => {
    if (isStorage(x)) bytes += x.length * BYTES_PER_ELEMENT[x.dtype];
  };
  for (const a of args) {
    add(a);
    // Attention's optional keys carry the key mask, a buffer the kernel reads.
    if (typeof a === 'object' && a !== null && 'keyMask' in a) add((a as AttentionKeys).keyMask);
  }
  return bytes;
}

const shape = (...dims: number[]) => dims.join('×');

/**
 * The line a profile files a call under: the method, and for the kernels whose speed depends on
 * their shape (matmul, attention, convolution) the shape too, so that one slow product stands out.
 */
export function kernelKey(method: string, args: readonly unknown[]): string {
  switch (method) {
    case 'matmul': {
      const a = args[3] as MatmulArgs;
      const op = `${a.transA ? 'Aᵀ' : 'A'}·${a.transB ? 'Bᵀ' : 'B'}${a.accumulate ? ' +=' : ''}`;
      return `matmul ${a.batch > 1 ? `${a.batch}× ` : ''}${shape(a.m, a.n, a.k)} ${op}`;
    }
    case 'attentionForward':
    case 'attentionBackward': {
      const o = method === 'attentionForward' ? 7 : 12;
      const [B, H, T, D] = [o, o + 1, o + 2, o + 3].map((i) => num(args[i]));
      const keys = args[o + 6] as AttentionKeys | undefined;
      return `${method} B${B} H${H} T${T}${keys ? ` Tk${keys.Tk}` : ''} D${D}${args[o + 5] ? ' causal' : ''}`;
    }
    case 'conv2dForward':
    case 'conv2dBackward': {
      const a = args[method === 'conv2dForward' ? 4 : 6] as Conv2dArgs;
      return `${method} ${a.Cin}→${a.Cout} ${a.kH}×${a.kW}/${a.strideH} on ${shape(a.B, a.H, a.W)}`;
    }
    case 'maxPool2dForward':
    case 'maxPool2dBackward':
    case 'avgPool2dForward':
    case 'avgPool2dBackward': {
      const a = args[args.length - 1] as Pool2dArgs;
      return `${method} ${a.kH}×${a.kW}/${a.strideH}`;
    }
    case 'unary':
    case 'unaryBackward':
      return `${method} ${String(args[0])}`;
    case 'binary':
    case 'reduce':
      return `${method} ${String(args[0])}`;
    default:
      return method;
  }
}

/** alloc is labelled for the zero-fill it launches (a profile's 'alloc zero-fill' line); an uninit one launches nothing. */
function costOf(method: string, args: readonly unknown[]): LaunchLabel {
  if (method === 'alloc') {
    const zeros = args[2] !== 'uninit';
    return { key: zeros ? 'alloc zero-fill' : 'alloc', flops: 0, bytes: zeros ? num(args[1]) * BYTES_PER_ELEMENT[args[0] as DType] : 0 };
  }
  return { key: kernelKey(method, args), flops: kernelFlops(method, args), bytes: kernelBytes(args) };
}

/** Calls that are not kernels: never labelled (capture's own methods, memory management, reads). */
const UNLABELLED = new Set(['beginCapture', 'endCapture', 'labelLaunches', 'view', 'free', 'read', 'readSync', 'memoryStats', 'info', 'dispose']);

/** Time, arithmetic and traffic of the calls that ran eagerly through a labelled backend, by key. */
export type EagerCalls = Map<string, { calls: number; ms: number; flops: number; bytes: number }>;

/**
 * `be` with every kernel call labelled for captures (CaptureKernels.labelLaunches: a program's
 * profile then names the call behind each launch), and, when `eager` is given, every kernel call
 * timed into it as it runs (for what a step runs outside its program: the optimizer, clipping).
 * A backend that cannot label is returned as it is.
 */
export function labelledBackend(be: Backend, eager?: EagerCalls): Backend {
  const label = be.labelLaunches?.bind(be);
  if (!label) return be;
  return new Proxy(be, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (typeof prop !== 'string' || UNLABELLED.has(prop)) return (v as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        const l = costOf(prop, args);
        label(l);
        const t0 = performance.now();
        try {
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          label(null);
          if (eager) {
            const e = eager.get(l.key) ?? { calls: 0, ms: 0, flops: 0, bytes: 0 };
            e.calls++;
            e.ms += performance.now() - t0;
            e.flops += l.flops;
            e.bytes += l.bytes;
            eager.set(l.key, e);
          }
        }
      };
    },
  });
}
