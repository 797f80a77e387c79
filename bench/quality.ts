// `npm run bench:quality`: trains the default configuration (nanoGPT's character-level CPU setup on
// Moby-Dick) for each seed and puts its final validation loss beside the figure PyTorch reaches with
// the same configuration on the same data (bench/quality_pytorch.py, run in the same benchmark).
// Goal (issue 4): within 0.02 nats of PyTorch, averaged over 3 seeds. Writes bench/results/quality.json.
// PyTorch trains at its fastest thread setting (torch threads × OpenBLAS threads, each 1..cores), found
// first on a short probe of the same step (bench/reference.py), so the ms/step rows hold resnorm to
// PyTorch at its best, as `npm run bench` does.
//
//   node --import tsx bench/quality.ts [--iters N] [--seeds a,b,c] [--backend ref|wasm]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '../src/backend/backend.ts';
import { createRefBackend } from '../src/backend/ref/ref-backend.ts';
import { loadDefaultCorpus } from '../src/cli/corpus-files.ts';
import { CharTokenizer } from '../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../src/data/corpus.ts';
import { GPT } from '../src/models/gpt.ts';
import { setDefaultBackend } from '../src/tensor/backend-registry.ts';
import { modelConfigOf, parseTrainConfig } from '../src/train/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import { describeTorch, findTorchPython, PINNED_OPENBLAS_VARS, runTorchTimed, threadRange, torchSettingName, type TorchTimes } from './python-reference.ts';
import { printTable, saveResults, type Row } from './report.ts';

type BackendName = 'ref' | 'wasm';

const GOAL_NATS = 0.02;
const EVAL_ITERS = 20;
const LOG_EVERY = 100;

interface Options {
  iters: number;
  seeds: number[];
  backend: BackendName;
}

interface PytorchResult {
  valLoss: number;
  seconds: number;
  msPerStep: number;
  threads?: number;
  /** OpenBLAS's thread count as the script's process read it (null when NumPy's BLAS is not OpenBLAS). */
  blasThreads?: number | null;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { iters: 2000, seeds: [1337, 1338, 1339], backend: 'ref' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--iters') {
      o.iters = Number(value);
      if (!Number.isInteger(o.iters) || o.iters < 1) throw new Error(`--iters ${value}: expected a positive integer, e.g. --iters 2000`);
      i++;
    } else if (flag === '--seeds') {
      o.seeds = (value ?? '').split(',').map(Number);
      if (o.seeds.length === 0 || o.seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds ${value}: expected non-negative integers separated by commas, e.g. --seeds 1337,1338,1339`);
      i++;
    } else if (flag === '--backend') {
      if (value !== 'ref' && value !== 'wasm') throw new Error(`--backend ${value}: expected ref or wasm`);
      o.backend = value;
      i++;
    } else {
      throw new Error(`unknown argument ${flag}; usage: bench/quality.ts [--iters N] [--seeds a,b,c] [--backend ref|wasm]`);
    }
  }
  return o;
}

/** The wasm backend is imported by a computed path, so this file type-checks and runs without it. */
async function makeBackend(name: BackendName): Promise<Backend> {
  switch (name) {
    case 'ref':
      return createRefBackend();
    case 'wasm': {
      const file = join(import.meta.dirname, '..', 'src', 'backend', 'wasm', 'index.ts');
      if (!existsSync(file)) throw new Error(`--backend wasm: ${file} does not exist yet; use --backend ref`);
      const mod = (await import(pathToFileURL(file).href)) as { createWasmBackend?: () => Promise<Backend> };
      if (typeof mod.createWasmBackend !== 'function') throw new Error(`--backend wasm: ${file} does not export createWasmBackend; use --backend ref`);
      return mod.createWasmBackend();
    }
    default: {
      const never: never = name;
      throw new Error(`unknown backend ${String(never)}`);
    }
  }
}

async function trainResnorm(backend: Backend, ids: Int32Array, vocabSize: number, iters: number, seed: number): Promise<{ valLoss: number; seconds: number; msPerStep: number }> {
  const config = parseTrainConfig({ maxIters: iters, seed, evalIters: EVAL_ITERS, evalInterval: iters }, 'bench:quality config');
  const data = splitTrainVal(ids, config.valFraction);
  const model = GPT.create(modelConfigOf(config, vocabSize), { backend, seed: config.seed });
  const trainer = new Trainer(model, config, data);
  const t0 = performance.now();
  while (trainer.step < iters) {
    const m = await trainer.trainStep();
    if (m.step % LOG_EVERY === 0 || m.step === iters) {
      const s = (performance.now() - t0) / 1000;
      console.log(`  resnorm seed ${seed}: step ${m.step}/${iters} train loss ${m.trainLoss.toFixed(4)} lr ${m.lr.toExponential(2)} (${s.toFixed(0)} s, ${((s * 1000) / m.step).toFixed(0)} ms/step)`);
    }
  }
  const trainMs = performance.now() - t0;
  const { valLoss } = await trainer.evaluate();
  return { valLoss, seconds: (performance.now() - t0) / 1000, msPerStep: trainMs / iters };
}

/**
 * PyTorch's fastest thread setting for this configuration's step: bench/reference.py's train step (the
 * same shapes as bench/quality_pytorch.py's) timed at every torch threads × OpenBLAS threads pair, each
 * in its own process. 10–15 s on 2 cores; null without torch (PyTorch then trains at its defaults).
 */
function probeTorchSetting(vocabSize: number): TorchTimes | null {
  const config = parseTrainConfig({}, 'bench:quality probe');
  const request = { kind: 'train_step', config: modelConfigOf(config, vocabSize), batch: config.batchSize, reps: 10, warmup: 3 };
  return runTorchTimed(request, threadRange(availableParallelism()));
}

function trainPytorch(python: string, iters: number, seed: number, setting: TorchTimes['best'] | null): PytorchResult | null {
  const script = join(import.meta.dirname, 'quality_pytorch.py');
  // OPENBLAS_NUM_THREADS must be in the environment before the script loads torch (OpenBLAS sizes its pool once).
  const env: Record<string, string | undefined> = { ...process.env, ...(setting ? { OMP_NUM_THREADS: String(setting.torchThreads), OPENBLAS_NUM_THREADS: String(setting.blasThreads) } : {}) };
  for (const v of PINNED_OPENBLAS_VARS) delete env[v]; // as in the probe: OpenBLAS's own kernels
  const args = { iters, seed, evalIters: EVAL_ITERS, threads: setting?.torchThreads ?? null };
  // stderr passes through: the script's progress lines appear as it trains.
  const r = spawnSync(python, [script, JSON.stringify(args)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20, env });
  if (r.status !== 0) {
    console.error(`bench/quality_pytorch.py failed for seed ${seed} (exit ${r.status ?? r.signal}); this seed has no reference`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as PytorchResult;
}

const fmtDelta = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(4)}`;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = await makeBackend(o.backend);
  setDefaultBackend(backend);
  const text = loadDefaultCorpus();
  const tokenizer = CharTokenizer.fromText(text);
  const ids = Int32Array.from(tokenizer.encode(text));
  const python = findTorchPython();
  console.log(`bench:quality: ${o.iters} iterations, seeds ${o.seeds.join(', ')}, backend ${o.backend}, ${ids.length} characters (vocabulary ${tokenizer.vocabSize}), ${EVAL_ITERS} evaluation batches`);
  if (!python) console.log('PyTorch reference missing: /usr/bin/python3 has no torch (apt-get install python3-torch); resnorm figures are printed without a reference');
  let torchSetting: TorchTimes | null = null;
  if (python) {
    console.log('PyTorch thread setting: probing torch threads × OpenBLAS threads on the default step');
    torchSetting = probeTorchSetting(tokenizer.vocabSize);
    console.log(torchSetting
      ? `PyTorch trains at ${torchSettingName(torchSetting.best)} threads, its fastest (${describeTorch(torchSetting).replace(/^pytorch /, '')})`
      : 'PyTorch thread probe failed: PyTorch trains at its default threads');
  }
  const pytorchThreads = (p: PytorchResult) => `torch ${p.threads ?? '?'} × OpenBLAS ${p.blasThreads ?? '?'} threads`;

  const rows: Row[] = [];
  const deltas: number[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  for (const seed of o.seeds) {
    console.log(`seed ${seed}: resnorm (${o.backend})`);
    const r = await trainResnorm(backend, ids, tokenizer.vocabSize, o.iters, seed);
    console.log(`seed ${seed}: resnorm val loss ${r.valLoss.toFixed(4)} in ${r.seconds.toFixed(1)} s`);
    let p: PytorchResult | null = null;
    if (python) {
      console.log(`seed ${seed}: PyTorch`);
      p = trainPytorch(python, o.iters, seed, torchSetting?.best ?? null);
      if (p) console.log(`seed ${seed}: PyTorch val loss ${p.valLoss.toFixed(4)} in ${p.seconds.toFixed(1)} s`);
    }
    ours.push(r.valLoss);
    if (p) {
      deltas.push(r.valLoss - p.valLoss);
      theirs.push(p.valLoss);
    }
    rows.push({
      bench: 'quality',
      case: `val loss, seed ${seed}, ${o.iters} it`,
      value: r.valLoss,
      unit: 'nats',
      ...(p ? { reference: { name: 'PyTorch', value: p.valLoss } } : {}),
      note: p ? `Δ ${fmtDelta(r.valLoss - p.valLoss)}` : 'no reference',
    });
    rows.push({
      bench: 'quality',
      case: `ms/step, seed ${seed}`,
      value: r.msPerStep,
      unit: 'ms',
      ...(p ? { reference: { name: 'PyTorch', value: p.msPerStep } } : {}),
      note: `${o.backend}: ${r.seconds.toFixed(0)} s${p ? `, PyTorch: ${p.seconds.toFixed(0)} s (${pytorchThreads(p)}${torchSetting ? ', its fastest' : ''})` : ''}`,
    });
  }

  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const complete = deltas.length === o.seeds.length;
  const meanDelta = complete ? mean(deltas) : null;
  rows.push({
    bench: 'quality',
    case: `mean val loss, ${o.seeds.length} seed${o.seeds.length > 1 ? 's' : ''}`,
    value: mean(ours),
    unit: 'nats',
    ...(complete ? { reference: { name: 'PyTorch', value: mean(theirs) } } : {}),
    note:
      meanDelta === null
        ? 'no complete reference'
        : `mean Δ ${fmtDelta(meanDelta)}; goal |Δ| ≤ ${GOAL_NATS}: ${Math.abs(meanDelta) <= GOAL_NATS ? 'met' : 'NOT met'}`,
  });
  console.log('');
  printTable(rows);
  const file = saveResults('quality', rows, { iters: o.iters, seeds: o.seeds, backend: o.backend, evalIters: EVAL_ITERS, goalNats: GOAL_NATS, meanDelta,
    pytorchThreads: torchSetting ? { best: torchSetting.best, probe: torchSetting.grid, note: 'probe: bench/reference.py train step, 10 timed steps after 3 per setting' } : null });
  console.log(`\nwritten: ${file}`);
}

await main();
