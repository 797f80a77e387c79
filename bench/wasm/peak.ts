// The machine's WebAssembly 128-bit SIMD peak, for sgemm's "% of peak" column. The loop
// (assembly/bench.ts) is not in the shipped kernels: it is compiled here, at bench time, in memory,
// with the kernels' compiler options, so no second binary is committed that could go stale.
import asc from 'assemblyscript/asc';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimdFlavour } from '../../src/backend/wasm/index.ts';

interface PeakExports {
  peakLoop(iters: number, seed: number): number;
  PEAK_CHAINS: WebAssembly.Global;
}

const ENTRY = fileURLToPath(new URL('../../assembly/bench.ts', import.meta.url));

/**
 * Compiles assembly/bench.ts with the kernels' optimisation options and SIMD features (asconfig.json's,
 * written out: that file's entries are the kernels, so asc is kept from reading it). The loop touches no
 * memory, so the module needs no imported memory or threads.
 */
export async function compilePeak(flavour: SimdFlavour): Promise<PeakExports> {
  let binary: Uint8Array | null = null;
  let stderr = '';
  const { error } = await asc.main(
    [ENTRY, '--outFile', 'peak.wasm', '--runtime', 'stub', '--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert',
      '--enable', flavour === 'relaxed' ? 'simd,relaxed-simd' : 'simd'],
    {
      readFile: async (name, dir) => (name === 'asconfig.json' ? null : readFile(join(dir, name), 'utf8').catch(() => null)),
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
      stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) } as never,
    },
  );
  if (error || !binary) throw new Error(`Compiling the peak loop (${ENTRY}) failed: ${String(error ?? 'no binary')}\n${stderr}`);
  const { instance } = await WebAssembly.instantiate(binary as Uint8Array<ArrayBuffer>);
  return instance.exports as unknown as PeakExports;
}

/** GFLOP/s of the peak loop on this thread (2·4 flops per chain per iteration), timed by `timeIt` (seconds per call). */
export async function peakGflops(flavour: SimdFlavour, timeIt: (fn: () => void) => number): Promise<number> {
  const ex = await compilePeak(flavour);
  const iters = 1_000_000;
  let sink = 0;
  const s = timeIt(() => {
    sink += ex.peakLoop(iters, 1);
  });
  if (Number.isNaN(sink)) throw new Error('peak loop produced NaN');
  return (2 * 4 * (ex.PEAK_CHAINS.value as number) * iters) / s / 1e9;
}
