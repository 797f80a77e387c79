// sgemm GFLOP/s of the wasm backend next to this machine's WebAssembly 128-bit peak (independent
// f32x4 multiply-add chains on one thread, times the thread count for the % column; ./peak.ts), on
// 1 thread and on every core, for each SIMD build the runtime runs.
// Run: node --import tsx bench/wasm/sgemm.ts   (bench/run.ts may import runSgemmBench)
import type { MatmulArgs } from '../../src/backend/backend.ts';
import { availableParallelism } from 'node:os';
import { hasRelaxedSimd } from '../../src/backend/wasm/load.ts';
import { loadWasmKernels, type SimdFlavour } from '../../src/backend/wasm/index.ts';
import { peakGflops } from './peak.ts';

export interface Row {
  kernel: 'peak' | 'sgemm';
  /** "m×n×k" plus the transpose case, or the chain count for the peak loop. */
  shape: string;
  flavour: SimdFlavour;
  threads: number;
  gflops: number;
  percentOfPeak: number;
}

/** Calls fn until minSeconds have passed (after a warm-up long enough for V8 to tier up); seconds per call. */
export function timeIt(fn: () => void, minSeconds = 0.3): number {
  const warm = performance.now();
  while (performance.now() - warm < 100) fn();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minSeconds * 1000) {
    fn();
    calls++;
    t = performance.now();
  }
  return (t - t0) / 1000 / calls;
}

// Square sizes, then the default GPT config's shapes (B·T = 768 rows, C = 128): the QKV projection
// forward, its weight gradient (Aᵀ·B) and input gradient (A·Bᵀ), and the MLP's up-projection.
const SHAPES: { m: number; n: number; k: number; transA: boolean; transB: boolean; label?: string }[] = [
  ...[64, 256, 768, 1024].map((s) => ({ m: s, n: s, k: s, transA: false, transB: false })),
  { m: 768, n: 384, k: 128, transA: false, transB: false, label: 'gpt qkv fwd' },
  { m: 128, n: 384, k: 768, transA: true, transB: false, label: 'gpt qkv dW' },
  { m: 768, n: 128, k: 384, transA: false, transB: true, label: 'gpt qkv dx' },
  { m: 768, n: 512, k: 128, transA: false, transB: false, label: 'gpt mlp fc fwd' },
];

export async function runSgemmBench(): Promise<Row[]> {
  const flavours = [await loadWasmKernels({ relaxed: false })];
  if (await hasRelaxedSimd()) flavours.push(await loadWasmKernels({ relaxed: true }));
  const rows: Row[] = [];
  for (const kernels of flavours) {
    const peak = await peakGflops(kernels.flavour, (fn) => timeIt(fn));
    rows.push({ kernel: 'peak', shape: '12 f32x4 madd chains', flavour: kernels.flavour, threads: 1, gflops: peak, percentOfPeak: 100 });
    const threadCounts = [...new Set([1, availableParallelism()])];
    for (const threads of threadCounts) {
    const be = await kernels.createThreadedBackend({ threads });
    for (const { m, n, k, transA, transB, label } of SHAPES) {
      const a = be.alloc('float32', m * k);
      const b = be.alloc('float32', k * n);
      const c = be.alloc('float32', m * n);
      be.write(a, Float32Array.from({ length: m * k }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5));
      be.write(b, Float32Array.from({ length: k * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5));
      const args: MatmulArgs = { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0, accumulate: false };
      const s = timeIt(() => be.matmul(a, b, c, args));
      const gflops = (2 * m * n * k) / s / 1e9;
      const t = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
      const shape = `${m}×${n}×${k} ${t}${label ? ` (${label})` : ''}`;
      rows.push({ kernel: 'sgemm', shape, flavour: kernels.flavour, threads, gflops, percentOfPeak: (100 * gflops) / (peak * threads) });
      for (const x of [a, b, c]) be.free(x);
    }
    await be.dispose();
    }
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const head = ['kernel', 'shape', 'build', 'threads', 'GFLOP/s', '% of peak'];
  const body = rows.map((r) => [r.kernel, r.shape, r.flavour, String(r.threads), r.gflops.toFixed(1), r.percentOfPeak.toFixed(0)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printTable(await runSgemmBench());
}
