// `npm run bench`: speed figures of every backend beside a reference measured in the same run
// (NumPy / PyTorch through bench/reference.py when python3-torch is installed). Writes bench/results/bench.json.

import { createRefBackend } from '../src/backend/ref/ref-backend.ts';
import { benchMatmul } from './matmul.ts';
import { runPythonReference } from './python-reference.ts';
import { printTable, saveResults, type Row } from './report.ts';
import { benchTrainStep, DEFAULT_STEP_CASE } from './train-step.ts';

const quick = process.argv.includes('--quick');
const rows: Row[] = [];

const sizes = [64, 256];
const numpy = runPythonReference<Record<string, number>>({ kind: 'matmul', sizes });
if (!numpy) console.log('(python3-torch not found: figures are printed without a reference; apt-get install python3-torch)');
const ref = createRefBackend();
rows.push(...benchMatmul(ref, sizes, numpy));

const torchStep = runPythonReference<{ ms: number; threads: number }>({ kind: 'train_step', config: DEFAULT_STEP_CASE.config, batch: DEFAULT_STEP_CASE.batch, reps: 10 });
rows.push(...benchTrainStep(ref, DEFAULT_STEP_CASE, quick ? 1 : 3, torchStep?.ms ?? null));

rows.push({ bench: 'memory', case: 'peak resident set', value: process.resourceUsage().maxRSS / 1024, unit: 'MiB' });
printTable(rows);
console.log(`\nwritten: ${saveResults('bench', rows, { pytorchThreads: torchStep?.threads })}`);
