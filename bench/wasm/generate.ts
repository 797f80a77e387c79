// Generation throughput with the KV cache (batch 1, default GPT config) on the wasm backend, one
// thread, with the share of each backend kernel in a token (every Backend method timed).
// Run: node --import tsx bench/wasm/generate.ts [tokens] [reps] [--profile]
import type { Backend } from '../../src/backend/backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { generate } from '../../src/models/generate.ts';
import { GPT } from '../../src/models/gpt.ts';
import { DEFAULT_STEP_CASE } from '../train-step.ts';
import { timed } from './timed.ts';

/** Tokens per second of `generate` from a one-token prompt (best of `reps`, after one warm-up). */
export async function generateTokensPerSecond(be: Backend, tokens: number, reps: number): Promise<number> {
  const model = GPT.create(DEFAULT_STEP_CASE.config, { backend: be, seed: 0 });
  const run = () => generate(model, [1], { maxNewTokens: tokens, seed: 1 });
  await run();
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return (tokens * 1000) / best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tokens = Number(process.argv[2] ?? 500);
  const reps = Number(process.argv[3] ?? 5);
  const kernels = await loadWasmKernels();
  const tps = await generateTokensPerSecond(kernels.createBackend(), tokens, reps);
  console.log(`generate, default config, batch 1, wasm (${kernels.flavour}, 1 thread): ${tps.toFixed(0)} tokens/s (${(1000 / tps * 1000).toFixed(0)} µs/token)`);
  if (!process.argv.includes('--profile')) process.exit(0);
  const times = new Map<string, number>();
  const calls = new Map<string, number>();
  const profTps = await generateTokensPerSecond(timed(kernels.createBackend(), times, calls), tokens, 1);
  const perTok = (x: number) => (x * 1000) / (tokens * 2); // warm-up + 1 rep, µs per token
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  console.log(`profiled: ${(1e6 / profTps).toFixed(0)} µs/token, of which backend calls ${perTok(total).toFixed(0)} µs:`);
  for (const [name, ms] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 16)) {
    console.log(`  ${name.padEnd(22)} ${perTok(ms).toFixed(1).padStart(7)} µs  ${((calls.get(name) ?? 0) / (tokens * 2)).toFixed(1).padStart(6)} calls`);
  }
}
