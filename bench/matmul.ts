// Matrix-multiply throughput (GFLOP/s) of a backend on square sizes.

import type { Backend } from '../src/backend/backend.ts';
import { timeMs, type Row } from './report.ts';

export function benchMatmul(backend: Backend, sizes: readonly number[], reference: Record<string, number> | null, label = backend.name): Row[] {
  return sizes.map((n) => {
    const a = backend.alloc('float32', n * n);
    const b = backend.alloc('float32', n * n);
    const c = backend.alloc('float32', n * n);
    backend.write(a, Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13));
    backend.write(b, Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11));
    const flops = 2 * n * n * n;
    const reps = Math.max(3, Math.min(50, Math.round(2e8 / flops)));
    const ms = timeMs(() => backend.matmul(a, b, c, { batch: 1, m: n, n, k: n, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false }), reps, 1);
    [a, b, c].forEach((s) => backend.free(s));
    const ref = reference?.[String(n)];
    return { bench: `matmul ${label}`, case: `${n}x${n}x${n}`, value: flops / (ms * 1e6), unit: 'GFLOP/s', ...(ref ? { reference: { name: 'numpy', value: ref } } : {}) };
  });
}
