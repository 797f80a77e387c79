// `npm run bench [-- --quick] [--section models,attention]`: every speed figure of issue 5 beside a
// reference measured in the same run (NumPy/OpenBLAS and PyTorch through bench/reference.py when
// python3-torch is installed, the same GPT step in TensorFlow.js's wasm and cpu backends, a memory copy
// for LayerNorm, the measured SIMD peak for sgemm), then the issue's goals judged on those figures.
// Writes bench/results/bench.json (bench-quick.json with --quick: fewer repetitions, same rows). With
// --section, only the named sections run (no goals: they need the others) and the file is
// bench-<sections>.json, so a partial run never overwrites a whole one.

import { availableParallelism, loadavg } from 'node:os';
import type { WasmBackend } from '../src/backend/wasm/index.ts';
import type { Backend } from '../src/backend/backend.ts';
import { createRefBackend } from '../src/backend/ref/ref-backend.ts';
import { benchAttention, torchAttention, type AttentionCase } from './attention.ts';
import { benchDiagnostics } from './diagnostics.ts';
import { benchGenerate } from './generate.ts';
import { benchGpt2 } from './gpt2.ts';
import { judgeGoals, judgeScaleGoals } from './goals.ts';
import { benchLayerNorm } from './layernorm.ts';
import { benchRefMatmul, benchSgemm, type SgemmResult } from './matmul.ts';
import { runMemoryStability } from './memory-stability.ts';
import { measureStepMemory, stepMemoryRows, torchSavedBytes } from './step-memory.ts';
import { benchDesigns } from './designs.ts';
import { benchMlpStep, benchModelStep, MLP_CASES, mlpSetup, MODEL_CASES, torchMlpStep, torchModelStep } from './models.ts';
import { profileRows, profileStep, type ProfileCase } from './profile.ts';
import { peakGflops } from './wasm/peak.ts';
import { timeIt } from './wasm/sgemm.ts';
import { describeTorch, findTorchPython, threadRange, torchRefName, torchSettingName, type OpenblasInfo, type TorchTimes } from './python-reference.ts';
import { printGoals, printTable, saveResults, type Row } from './report.ts';
import { tfjsAvailability, tfjsRows, tfjsTrainStep, type TfjsRun } from './tfjs-reference.ts';
import { benchTrainStep, DEFAULT_STEP_CASE, gptSetup, LARGE_STEP_CASE, torchTrainStep } from './train-step.ts';

const quick = process.argv.includes('--quick');
const SECTIONS = ['sgemm', 'matmul ref', 'layernorm', 'attention', 'train step', 'tfjs train step', 'models', 'designs', 'profile', 'generate', 'memory', 'gpt2'] as const;
const only = sectionsFlag();
const cores = availableParallelism();
const threadCounts = [...new Set([1, cores])];
// PyTorch's reference is its fastest over torch threads × OpenBLAS threads, each 1..cores (4 settings on
// 2 cores, each its own process); NumPy's sgemm is held to resnorm's thread count instead (a
// per-thread-count comparison of the kernel, not of a whole framework at its best).
const torchThreadAxis = threadRange(cores);
/** Every PyTorch grid of the run, for the JSON: which setting won for each row, and all the timings. */
const torchGrids: Record<string, TorchTimes> = {};
function noteTorch(key: string, t: TorchTimes | null): TorchTimes | null {
  if (t) torchGrids[key] = t;
  return t;
}
const rows: Row[] = [];
/** The profile section's models: both GPT configs, the SimpleNet MLP and the other task models. */
const PROFILE_CASES: ProfileCase[] = [
  ...[DEFAULT_STEP_CASE, LARGE_STEP_CASE].map((c) => ({ name: c.name, setup: (be: Backend) => gptSetup(be, c) })),
  { name: MLP_CASES[0].name, setup: (be: Backend) => mlpSetup(be, MLP_CASES[0]) },
  ...MODEL_CASES.map((c) => ({ name: c.name, setup: (be: Backend) => c.setup(be) })),
];
const seconds: Record<string, number> = {};
const rssAfter: Record<string, number> = {};
const t00 = performance.now();

/** --section a,b: the sections to run (null: all), checked against SECTIONS so a typo is not a silent empty run. */
function sectionsFlag(): Set<string> | null {
  const i = process.argv.indexOf('--section');
  if (i < 0) return null;
  const names = (process.argv[i + 1] ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length) {
    throw new Error(`--section ${unknown.length ? `has unknown ${unknown.map((n) => `'${n}'`).join(', ')}` : 'needs a name'}; sections: ${SECTIONS.join(', ')} (comma-separated)`);
  }
  return new Set(names);
}

/**
 * Runs one section, printing how long it took (the run has a time budget: ~4 min quick, ~15 full);
 * a section --section left out returns `skipped` without running.
 */
async function section<T>(name: (typeof SECTIONS)[number], fn: () => T | Promise<T>, skipped: T): Promise<T> {
  if (only && !only.has(name)) return skipped;
  const t0 = performance.now();
  process.stdout.write(`${name}... `);
  const r = await fn();
  seconds[name] = (performance.now() - t0) / 1000;
  rssAfter[name] = process.memoryUsage().rss / 2 ** 20;
  console.log(`${seconds[name].toFixed(0)} s (RSS now ${rssAfter[name].toFixed(0)} MiB)`);
  return r;
}

async function wasmBackend(threads: number): Promise<WasmBackend | null> {
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
const wasmAll = cores > 1 ? await wasmBackend(cores) : null;
const wasms = [wasm, wasmAll].filter((b): b is WasmBackend => b !== null).map((be) => ({ be, label: `${be.threads} thread${be.threads > 1 ? 's' : ''}` }));
const hasTorch = findTorchPython() !== null;
const tfjs = tfjsAvailability();
const loadAtStart = loadavg()[0];
console.log(`resnorm bench${quick ? ' --quick' : ''}: ${cores} cores (load average ${loadAtStart.toFixed(1)}), wasm ${wasm?.flavour ?? 'unavailable'}, ` +
  `reference ${hasTorch ? 'NumPy/PyTorch (bench/reference.py)' : 'absent: apt-get install python3-torch libopenblas0-pthread'}; ` +
  `TensorFlow.js ${'version' in tfjs ? tfjs.version : `absent (${tfjs.missing})`}`);

const sgemm: SgemmResult | null = wasm ? await section('sgemm', () => benchSgemm(wasm.flavour), null) : null;
if (sgemm) {
  rows.push(...sgemm.rows.map((r) => (r.reference ? { ...r, note: `${r.note ? `${r.note}; ` : ''}numpy at resnorm's thread count` } : r)));
}
rows.push(...(await section('matmul ref', () => benchRefMatmul(ref, [64, 256]), [])));

const normShapes = [
  { name: 'default', rows: DEFAULT_STEP_CASE.batch * DEFAULT_STEP_CASE.config.blockSize, C: DEFAULT_STEP_CASE.config.nEmbd },
  { name: 'large', rows: LARGE_STEP_CASE.batch * LARGE_STEP_CASE.config.blockSize, C: LARGE_STEP_CASE.config.nEmbd },
];
const layerNorm = await section('layernorm', () => wasms.flatMap(({ be, label }) => benchLayerNorm(be, normShapes, quick ? 300 : 1000, label)), []);
rows.push(...layerNorm);

const attnCases: AttentionCase[] = [DEFAULT_STEP_CASE, LARGE_STEP_CASE].map((c) => ({
  name: c.name.split(' ')[0], B: c.batch, H: c.config.nHead, T: c.config.blockSize, D: c.config.nEmbd / c.config.nHead,
}));
await section('attention', () => {
  for (const c of attnCases) {
    const torch = noteTorch(`attention ${c.name}`, torchAttention(c, torchThreadAxis, quick ? 5 : 20));
    for (const { be, label } of wasms) {
      const row = benchAttention(be, c, quick ? 500 : 2000, `wasm ${label}`, torch);
      // Name the reference by the setting that won (torch threads × OpenBLAS threads).
      rows.push(torch && row.reference ? { ...row, reference: { ...row.reference, name: torchRefName(torch) }, note: describeTorch(torch) } : row);
    }
  }
}, undefined);

// Fresh wasm backends per config, so each one's peak live memory is that config's training step alone
// (and the large step's ~GiB of linear memory is dropped before the next bench).
const trainDefault: Row[] = [];
const diagnosticsRows: Row[] = [];
const torchPeakRss = new Map<string, number>();
await section('train step', async () => {
  for (const c of [DEFAULT_STEP_CASE, LARGE_STEP_CASE]) {
    const isLarge = c === LARGE_STEP_CASE;
    const reps = isLarge ? (quick ? 1 : 3) : quick ? 5 : 20;
    // The large step takes ~2 s in PyTorch at its best and ~4 s at its worst setting: 2 timed steps
    // after 1 warm-up at each of the grid's settings (1 after 1 in a quick run).
    const torchReps = isLarge ? (quick ? 1 : 2) : reps;
    const torch = noteTorch(`train step ${c.name}`, torchTrainStep(c, torchThreadAxis, torchReps, isLarge ? 1 : quick ? 2 : 3));
    if (torch) torchPeakRss.set(c.name, torch.maxRssMiB);
    const out: Row[] = [];
    if (!isLarge) out.push(...(await benchTrainStep(ref, c, quick ? 1 : 2, torch, 'ref')));
    for (const threads of threadCounts) {
      const be = await wasmBackend(threads);
      if (!be) continue;
      out.push(...(await benchTrainStep(be, c, reps, torch, `wasm ${threads} thread${threads > 1 ? 's' : ''}`)));
      // The same step with every op issued from JavaScript: what capture saves.
      if (!isLarge) out.push(...(await benchTrainStep(be, c, reps, torch, `wasm ${threads} thread${threads > 1 ? 's' : ''}, eager`, false)));
      // What diagnostics add (issue 11: under 3% at the default interval), and at every step. Kept out
      // of `out`: the TF.js table compares step times, and these rows are shares of a step.
      if (!isLarge) diagnosticsRows.push(...(await benchDiagnostics(be, c, reps, `wasm ${threads} thread${threads > 1 ? 's' : ''}`)));
      await be.dispose();
    }
    if (!isLarge) trainDefault.push(...out);
    rows.push(...out);
  }
  rows.push(...diagnosticsRows);
}, undefined);

// The same default step in TensorFlow.js (bench/tfjs/gpt.ts), wasm and cpu backends, each in a child
// process under a time cap (the cpu backend takes ~10 s a step, so it gets two timed steps).
const tfjsRun: TfjsRun = await section('tfjs train step', () => tfjsTrainStep(DEFAULT_STEP_CASE, [
  { backend: 'wasm', reps: quick ? 3 : 5, capMs: (quick ? 60 : 90) * 1000 },
  { backend: 'cpu', reps: 2, capMs: (quick ? 75 : 120) * 1000 },
]), { results: [], problems: [] });
for (const p of tfjsRun.problems) console.log(`(TF.js reference unavailable: ${p})`);
rows.push(...tfjsRows(trainDefault, tfjsRun, DEFAULT_STEP_CASE));

// The other models' steps beside PyTorch's, on every thread count.
await section('models', async () => {
  for (const c of MLP_CASES) {
    const torch = noteTorch(`train step ${c.name}`, torchMlpStep(c, torchThreadAxis, quick ? 5 : 20));
    for (const { be, label } of wasms) rows.push(await benchMlpStep(be, c, quick ? 5 : 20, torch, `wasm ${label}`));
  }
  // The encoder-decoder, the text classifier and the ResNet: PyTorch checks its parameter count is resnorm's.
  for (const c of MODEL_CASES) {
    const reps = quick ? c.reps.quick : c.reps.full;
    const torch = torchModelStep(c, torchThreadAxis, reps);
    noteTorch(`train step ${c.name}`, torch?.times ?? null);
    for (const { be, label } of wasms) rows.push(await benchModelStep(be, c, reps, torch, `wasm ${label}`));
  }
}, undefined);

// Each design's step beside the default design's (one thread: the designs' own cost, not threading's).
if (wasm) rows.push(...(await section('designs', () => benchDesigns(() => wasmBackend(1), DEFAULT_STEP_CASE, quick ? 3 : 9, 'wasm 1 thread'), [])));

// Every model's captured step, kernel by kernel, on all threads (as `resnorm train` runs it), against the SIMD peak.
const profiled = wasmAll ?? wasm;
if (profiled) {
  rows.push(...(await section('profile', async () => {
    const peak = sgemm?.peak ?? (await peakGflops(profiled.flavour, (fn) => timeIt(fn)));
    const out: Row[] = [];
    for (const c of PROFILE_CASES) {
      const p = await profileStep(profiled, profiled.threads, c, quick ? 2 : 5);
      if (p) out.push(...profileRows(p, peak, `wasm ${profiled.threads} thread${profiled.threads > 1 ? 's' : ''}`));
    }
    return out;
  }, [])));
}

const generated: Row[] = await section('generate', async () => {
  const r = await benchGenerate(ref, DEFAULT_STEP_CASE, quick ? 50 : 100, 'ref');
  const out = [r];
  for (const { be, label } of wasms) out.push(await benchGenerate(be, DEFAULT_STEP_CASE, 500, `wasm ${label}`, r));
  return out;
}, []);
rows.push(...generated);

/** What a step holds against what it must hold, each GPT config on a fresh 1-thread backend (issue 15). */
async function stepMemory(): Promise<Row[]> {
  const out: Row[] = [];
  for (const c of [DEFAULT_STEP_CASE, LARGE_STEP_CASE]) {
    const be = await wasmBackend(1);
    if (!be) break;
    out.push(...stepMemoryRows(await measureStepMemory(be, (b) => gptSetup(b, c)), `${c.name}, wasm 1 thread, fresh backend`, torchSavedBytes(c)));
    await be.dispose();
  }
  return out;
}
const [memory, memoryDefaultV8, peakDefault, peakLarge, stepMemoryRowsMeasured] = await section('memory', async () => [
  runMemoryStability(1000, cores),
  runMemoryStability(1000, cores, 'small', []),
  runMemoryStability(quick ? 5 : 20, cores, 'default'),
  runMemoryStability(2, cores, 'large'),
  await stepMemory(),
] as const, [null, null, null, null, []] as const);
for (const mem of [memory, memoryDefaultV8]) {
  if (!mem) continue;
  const at = (step: number) => mem.samples.find((s) => s.step === step)!;
  const [a, b] = [at(100), at(1000)];
  const flags = mem.nodeFlags?.length ? mem.nodeFlags.join(' ') : "V8's default heap flags";
  const m = { section: 'memory', case: `${mem.model}, wasm ${mem.threads} threads, fresh process, ${flags}`, unit: 'MiB', lowerIsBetter: true };
  const vs100 = (x: number) => ({ reference: { name: 'after 100', value: x } });
  const drift = `${b.rssMiB >= a.rssMiB ? '+' : ''}${((100 * (b.rssMiB - a.rssMiB)) / a.rssMiB).toFixed(1)}% (goal: within 2%)`;
  rows.push(
    { ...m, bench: 'RSS after 100 steps', value: a.rssMiB },
    { ...m, bench: 'RSS after 1000 steps', value: b.rssMiB, ...vs100(a.rssMiB), note: drift },
    { ...m, bench: 'V8 heap reserved (heapTotal), step 1000', value: b.heapTotalMiB, ...vs100(a.heapTotalMiB) },
    { ...m, bench: 'JS heap live after GC, step 1000', value: b.heapUsedMiB, ...vs100(a.heapUsedMiB) },
    { ...m, bench: 'wasm memory handed out, step 1000', value: b.wasmReservedMiB, ...vs100(a.wasmReservedMiB) },
    { ...m, bench: 'peak RSS, memory-stability process', value: mem.peakRssMiB },
    { ...m, bench: 'JS garbage collections, 1000 steps', value: mem.gcCount, unit: 'GCs',
      note: `${mem.gcMs.toFixed(0)} ms in all = ${((100 * mem.gcMs) / (mem.msPerStep * 1000)).toFixed(2)}% of training time; steps ${mem.stepMode}` },
  );
}
for (const p of [peakDefault, peakLarge]) {
  const torch = p && torchPeakRss.get(p.model);
  if (p) {
    rows.push({ section: 'memory', bench: 'peak RSS, training only this model', case: `${p.model}, wasm ${p.threads} threads, fresh process`,
      value: p.peakRssMiB, unit: 'MiB', lowerIsBetter: true, ...(torch ? { reference: { name: 'pytorch process', value: torch } } : {}) });
  }
}
rows.push(...stepMemoryRowsMeasured);
rows.push({ section: 'memory', bench: 'peak RSS, this bench process', case: 'all the benches above', note: 'includes wasm memories of finished benches not yet collected', value: process.resourceUsage().maxRSS / 1024, unit: 'MiB' });

// GPT-2 small (124M) through import-gpt2 and cached generation (issue 16); last, so that its gigabytes
// are not in the peak above, on fresh backends of its own.
rows.push(...(await section('gpt2', () => benchGpt2({ quick, threadCounts }), [])));

await Promise.all(wasms.map(({ be }) => be.dispose()));
printTable(rows);
const goals = [...(only ? [] : judgeGoals({ cores, sgemm, layerNorm, trainDefault, tfjs: tfjsRun, generate: generated, memory })), ...judgeScaleGoals(rows)];
if (sgemm?.blas) console.log(`\nNumPy's BLAS in this run: ${sgemm.blas}; NumPy's sgemm rows hold OpenBLAS to the same thread count as resnorm's row (a per-thread-count comparison)`);
const grids = Object.entries(torchGrids);
const openblas: OpenblasInfo | null = grids.find(([, t]) => t.openblas)?.[1].openblas ?? null;
if (grids.length) {
  console.log(`PyTorch rows take PyTorch's fastest over torch threads × OpenBLAS threads (${torchThreadAxis.join(', ')} each), each setting in its own process:`);
  for (const [key, t] of grids) console.log(`  ${key}: best ${torchSettingName(t.best)} (${t.best.ms.toFixed(t.best.ms >= 100 ? 0 : 2)} ms); ${describeTorch(t).replace(/^pytorch /, '')}`);
}
if (openblas) {
  const forced = process.env.OPENBLAS_CORETYPE;
  console.log(`OpenBLAS kernels: ${openblas.core} (${openblas.config})` + (forced
    ? `; this environment sets OPENBLAS_CORETYPE=${forced}, which the reference processes run without (and without OPENBLAS_L2_SIZE), on OpenBLAS's detection of this CPU: NumPy and PyTorch at their best`
    : ''));
}
if (goals.length) printGoals(goals);
const file = saveResults(`bench${quick ? '-quick' : ''}${only ? `-${[...only].join('-').replace(/\W+/g, '-')}` : ''}`, rows, {
  sections: only ? [...only] : 'all',
  quick, cores, flavour: wasm?.flavour, blas: sgemm?.blas, goals,
  pytorch: { settings: 'torch threads (torch.set_num_threads, OMP_NUM_THREADS) × OpenBLAS threads (OPENBLAS_NUM_THREADS), each in its own process; the fastest is the reference',
    threads: torchThreadAxis, grids: torchGrids },
  numpy: { settings: "OpenBLAS held to resnorm's thread count for each sgemm row (a per-thread-count comparison)" },
  openblas: openblas ? { ...openblas, coretypeEnv: process.env.OPENBLAS_CORETYPE ?? null } : null,
  tfjs: tfjsRun, loadAverage: { start: loadAtStart, end: loadavg()[0] }, sgemmAllBuilds: sgemm?.raw, memory, seconds, rssAfterSectionMiB: rssAfter,
  totalSeconds: (performance.now() - t00) / 1000,
});
const loadAtEnd = loadavg()[0];
const shared = Math.max(loadAtStart, loadAtEnd) > cores ? ` (above ${cores}: other work shared these cores; figures are low and noisy)` : '';
console.log(`\n${((performance.now() - t00) / 1000).toFixed(0)} s in all; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ` +
  `${loadAtEnd.toFixed(1)} at the end${shared}; written: ${file}`);
