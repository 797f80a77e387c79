// sgemm throughput (GFLOP/s): the wasm kernels through bench/wasm/sgemm.ts (square sizes and the
// default GPT config's shapes, 1 thread and every core, % of the measured WebAssembly SIMD peak),
// each beside NumPy/OpenBLAS on the same shape and thread count; plus the ref backend for scale.

import type { Backend } from '../src/backend/backend.ts';
import { runSgemmBench, type Row as SgemmRow } from './wasm/sgemm.ts';
import { runPythonReference } from './python-reference.ts';
import { timeMs, type Row } from './report.ts';

interface Shape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  key: string;
}

/** Reads "m×n×k NT (label)" as bench/wasm/sgemm.ts writes it; null if that format ever changes. */
function parseShape(shape: string): Shape | null {
  const g = /^(\d+)×(\d+)×(\d+) ([NT])([NT])/.exec(shape);
  if (!g) return null;
  return { m: +g[1], n: +g[2], k: +g[3], transA: g[4] === 'T', transB: g[5] === 'T', key: shape };
}

interface NumpyAnswer {
  gflops: Record<string, number>;
  blas: string;
}

export interface SgemmResult {
  rows: Row[];
  /** Every row of runSgemmBench, both SIMD builds (the table shows the one the backend runs). */
  raw: SgemmRow[];
  flavour: string;
  peak: number;
  blas: string | null;
}

export async function benchSgemm(flavour: 'relaxed' | 'simd'): Promise<SgemmResult> {
  const raw = await runSgemmBench();
  const mine = raw.filter((r) => r.flavour === flavour);
  const shapes = [...new Map(mine.filter((r) => r.kernel === 'sgemm').map((r) => [r.shape, parseShape(r.shape)])).values()]
    .filter((s): s is Shape => s !== null);
  const numpy = new Map<number, NumpyAnswer | null>();
  for (const t of new Set(mine.map((r) => r.threads))) {
    numpy.set(t, runPythonReference<NumpyAnswer>({ kind: 'matmul', shapes }, { OPENBLAS_NUM_THREADS: String(t), OMP_NUM_THREADS: String(t) }));
  }
  const peak = mine.find((r) => r.kernel === 'peak')?.gflops ?? NaN;
  const rows = mine.map((r): Row => {
    const threads = `${r.threads} thread${r.threads > 1 ? 's' : ''}`;
    if (r.kernel === 'peak') {
      return { section: 'sgemm', bench: `wasm ${r.flavour} peak, 1 thread`, case: r.shape, value: r.gflops, unit: 'GFLOP/s', note: 'the 100% of the % of peak column' };
    }
    const ref = numpy.get(r.threads)?.gflops[r.shape];
    return {
      section: 'sgemm',
      bench: `sgemm wasm, ${threads}`,
      case: r.shape,
      value: r.gflops,
      unit: 'GFLOP/s',
      ...(ref ? { reference: { name: `numpy ${threads}`, value: ref } } : {}),
      note: `${r.percentOfPeak.toFixed(0)}% of ${r.threads}×peak`,
    };
  });
  const blas = [...numpy.values()].find((a) => a)?.blas ?? null;
  return { rows, raw, flavour, peak, blas };
}

/** The ref backend's matmul on small squares: the scale the wasm kernels are measured from. */
export function benchRefMatmul(backend: Backend, sizes: readonly number[]): Row[] {
  return sizes.map((n) => {
    const a = backend.alloc('float32', n * n);
    const b = backend.alloc('float32', n * n);
    const c = backend.alloc('float32', n * n);
    backend.write(a, Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13));
    backend.write(b, Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11));
    const flops = 2 * n * n * n;
    const ms = timeMs(() => backend.matmul(a, b, c, { batch: 1, m: n, n, k: n, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false }), 3, 1);
    [a, b, c].forEach((s) => backend.free(s));
    return { section: 'sgemm', bench: 'matmul ref backend', case: `${n}×${n}×${n} NN`, value: flops / (ms * 1e6), unit: 'GFLOP/s' };
  });
}
