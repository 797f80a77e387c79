// Where a captured training step's time goes, kernel by kernel, for every model the bench trains: the
// step as `resnorm train` runs it (TrainStep: forward and backward replayed from a capture, then
// clipping and AdamW issued from JavaScript), with every launch of the program timed and filed under
// the backend call it was captured from (labelledBackend), shapes included for the products,
// attention and convolutions. Each line gives ms per step, its share, GFLOP/s and GB/s (the
// conventions of src/backend/kernel-cost.ts), and the step's arithmetic is held against the
// machine's measured SIMD peak: the fastest this step could be on these threads.

import type { Backend, ProgramProfileLine } from '../src/backend/backend.ts';
import { labelledBackend, type EagerCalls } from '../src/backend/kernel-cost.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { TrainStep } from '../src/train/step.ts';
import type { ModelSetup } from './model-step.ts';
import type { Row } from './report.ts';

export interface ProfileCase {
  name: string;
  setup(backend: Backend): ModelSetup;
}

export interface StepProfile {
  case: string;
  threads: number;
  stepMs: number;
  /** The captured program's lines (per step), slowest first. */
  program: ProgramProfileLine[];
  /** Calls issued eagerly after the program (clipping, AdamW), per step. */
  eager: ProgramProfileLine[];
  flops: number;
}

const perStep = (l: ProgramProfileLine, n: number): ProgramProfileLine => ({ ...l, calls: l.calls / n, launches: l.launches / n, ms: l.ms / n, flops: l.flops / n, bytes: l.bytes / n });

/** Sums profile lines by key (several replays' profiles into one). */
function addLines(into: Map<string, ProgramProfileLine>, lines: readonly ProgramProfileLine[]): void {
  for (const l of lines) {
    const s = into.get(l.key);
    if (!s) into.set(l.key, { ...l });
    else {
      s.calls += l.calls;
      s.launches += l.launches;
      s.ms += l.ms;
      s.flops += l.flops;
      s.bytes += l.bytes;
    }
  }
}

/**
 * Trains `c`'s model `steps` steps after a capture and a warm-up, timing whole steps, then profiles
 * `steps` replays of its program. Null when the backend cannot capture or label (no program to profile).
 */
export async function profileStep(be: Backend, threads: number, c: ProfileCase, steps: number): Promise<StepProfile | null> {
  const eagerCalls: EagerCalls = new Map();
  const lb = labelledBackend(be, eagerCalls);
  if (lb === be) return null;
  const { model, loss, batch } = c.setup(lb);
  const store = model.store!;
  const opt = new AdamW(store);
  const stepper = new TrainStep(model, opt, { loss });
  try {
    for (let i = 0; i < 2; i++) await stepper.runBatch(batch, { gradClip: 1 });
    if (stepper.eagerReason !== null) return null;
    eagerCalls.clear();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await stepper.runBatch(batch, { gradClip: 1 });
    const stepMs = (performance.now() - t0) / steps;
    const program = new Map<string, ProgramProfileLine>();
    for (let i = 0; i < steps; i++) addLines(program, stepper.profile()!);
    const lines = [...program.values()].map((l) => perStep(l, steps)).sort((a, b) => b.ms - a.ms);
    const eager = [...eagerCalls].map(([key, e]) => perStep({ key, launches: e.calls, ...e }, steps)).sort((a, b) => b.ms - a.ms);
    const flops = [...lines, ...eager].reduce((a, l) => a + l.flops, 0);
    return { case: c.name, threads, stepMs, program: lines, eager, flops };
  } finally {
    stepper.release();
    for (const s of [opt.m, opt.v]) be.free(s);
    store.release();
  }
}

const rate = (l: ProgramProfileLine) => {
  const parts: string[] = [];
  if (l.flops > 0) parts.push(`${(l.flops / l.ms / 1e6).toFixed(1)} GFLOP/s`);
  if (l.bytes > 0) parts.push(`${(l.bytes / l.ms / 1e6).toFixed(1)} GB/s`);
  return parts.join(', ');
};

/**
 * The profile as bench rows: the whole step, its floor at the SIMD peak (`peakGflops` per thread,
 * measured in this run), the program's `top` slowest lines and the rest summed, the eager calls, and
 * what is in no kernel (the read of the step's stats, JavaScript, waiting).
 */
export function profileRows(p: StepProfile, peakGflops: number | null, label: string, top = 12): Row[] {
  const at = `${p.case}, ${label}`;
  const row = (bench: string, ms: number, note: string): Row => ({
    section: 'profile', bench, case: at, value: ms, unit: 'ms/step', note: `${((100 * ms) / p.stepMs).toFixed(1)}% of the step${note ? `; ${note}` : ''}`,
  });
  const programMs = p.program.reduce((a, l) => a + l.ms, 0);
  const eagerMs = p.eager.reduce((a, l) => a + l.ms, 0);
  const rest = p.program.slice(top);
  const restLine = rest.reduce((a, l) => ({ ...a, calls: a.calls + l.calls, ms: a.ms + l.ms, flops: a.flops + l.flops, bytes: a.bytes + l.bytes }),
    { key: '', calls: 0, launches: 0, ms: 0, flops: 0, bytes: 0 });
  const floor = peakGflops ? p.flops / (p.threads * peakGflops * 1e6) : null;
  const rows: Row[] = [
    row('whole step', p.stepMs, `${(p.flops / 1e9).toFixed(2)} GFLOP = ${(p.flops / p.stepMs / 1e6).toFixed(1)} GFLOP/s` +
      (floor ? `; ${(100 * floor / p.stepMs).toFixed(0)}% of ${p.threads}×peak (${peakGflops!.toFixed(1)} GFLOP/s a thread)` : '')),
  ];
  if (floor) rows.push(row('  the same FLOPs at the SIMD peak', floor, 'the floor on these threads: every kernel at the peak loop\'s rate'));
  rows.push(row('  captured program (forward, backward)', programMs, `${p.program.reduce((a, l) => a + l.launches, 0).toFixed(0)} launches`));
  for (const l of p.program.slice(0, top)) rows.push(row(`    ${l.key}`, l.ms, `${l.calls.toFixed(0)}× ${rate(l)}`));
  if (rest.length) rows.push(row(`    ${rest.length} other lines`, restLine.ms, rate(restLine)));
  rows.push(row('  eager calls (clipping, AdamW)', eagerMs, ''));
  for (const l of p.eager.slice(0, 4)) rows.push(row(`    ${l.key}`, l.ms, `${l.calls.toFixed(0)}× ${rate(l)}`));
  const outside = p.stepMs - programMs - eagerMs;
  // The program is profiled launch by launch, each launch waited for and timed; where that costs more
  // than the plain step spends outside kernels, the lines add up to more than the step.
  if (outside >= 0) rows.push(row('  in no kernel (stats read, JavaScript, waits)', outside, ''));
  else rows.push(row('  (the lines add up to more than the step by)', -outside, 'the cost of timing launch by launch; each line\'s share is of the plain step'));
  return rows;
}
