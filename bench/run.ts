// `npm run bench`: speed figures of every backend beside a reference measured in the same run
// (NumPy / PyTorch through bench/reference.py when python3-torch is installed). Writes bench/results/bench.json.
// `--quick` takes fewer repetitions and skips the large model.

import type { Backend } from '../src/backend/backend.ts';
import { createRefBackend } from '../src/backend/ref/ref-backend.ts';
import { DEFAULT_GPT_CONFIG } from '../src/models/gpt.ts';
import { benchGenerate } from './generate.ts';
import { benchMatmul } from './matmul.ts';
import { runPythonReference } from './python-reference.ts';
import { printTable, saveResults, type Row } from './report.ts';
import { benchTrainStep, DEFAULT_STEP_CASE, type StepCase } from './train-step.ts';

const quick = process.argv.includes('--quick');
const rows: Row[] = [];
const LARGE: StepCase = { name: 'large (L6 C384 T256 B8)', config: { ...DEFAULT_GPT_CONFIG, vocabSize: 65, nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256 }, batch: 8 };

async function wasmBackend(threads: number | 'auto'): Promise<Backend | null> {
  try {
    const { createWasmBackend } = await import('../src/backend/wasm/index.ts');
    return await createWasmBackend({ threads });
  } catch (e) {
    console.log(`(wasm backend unavailable: ${(e as Error).message})`);
    return null;
  }
}

const ref = createRefBackend();
const wasm = await wasmBackend(1);
const cores = (await import('node:os')).availableParallelism();
const wasmAll = cores > 1 ? await wasmBackend('auto') : null;
const sizes = [64, 256, 768, 1024];
const numpy = runPythonReference<Record<string, number>>({ kind: 'matmul', sizes });
if (!numpy) console.log('(python3-torch not found: figures are printed without a reference; apt-get install python3-torch)');
rows.push(...benchMatmul(ref, [64, 256], numpy));
if (wasm) rows.push(...benchMatmul(wasm, sizes, numpy));
if (wasmAll) rows.push(...benchMatmul(wasmAll, sizes, numpy, `wasm ${cores} threads`));

const cases = quick ? [DEFAULT_STEP_CASE] : [DEFAULT_STEP_CASE, LARGE];
for (const c of cases) {
  const torch = runPythonReference<{ ms: number; threads: number }>({ kind: 'train_step', config: c.config, batch: c.batch, reps: c === LARGE ? 3 : 10 });
  if (c === DEFAULT_STEP_CASE) rows.push(...benchTrainStep(ref, c, quick ? 1 : 3, torch?.ms ?? null));
  if (wasm) rows.push(...benchTrainStep(wasm, c, c === LARGE ? 2 : quick ? 3 : 10, torch?.ms ?? null));
  if (wasmAll) rows.push(...benchTrainStep(wasmAll, c, c === LARGE ? 2 : quick ? 3 : 10, torch?.ms ?? null, `wasm ${cores} threads`));
}
rows.push(benchGenerate(ref, DEFAULT_STEP_CASE, 100));
if (wasm) rows.push(benchGenerate(wasm, DEFAULT_STEP_CASE, 500));

rows.push({ bench: 'memory', case: 'peak resident set of this process', value: process.resourceUsage().maxRSS / 1024, unit: 'MiB' });
printTable(rows);
console.log(`\nwritten: ${saveResults('bench', rows)}`);
