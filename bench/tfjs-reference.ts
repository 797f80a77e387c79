// TensorFlow.js beside resnorm in `npm run bench`: the GPT of bench/reference.py written in TF.js ops
// (bench/tfjs/gpt.ts) trains on TF.js's wasm and cpu backends, each in its own child process
// (bench/tfjs/child.ts) under a time cap, so its memory and threads stay out of the other benches.
// Absent the devDependencies, or if a child fails, the bench says why and carries on without them.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TfjsRequest } from './tfjs/child.ts';
import type { StepCase } from './train-step.ts';
import type { Row } from './report.ts';

export type TfjsBackend = TfjsRequest['backend'];

export interface TfjsTrainResult {
  backend: TfjsBackend;
  version: string;
  /** How the backend ran: SIMD or not, threads. */
  flavour: string;
  /** Median ms of the timed steps (the warm-up step's time if the cap left no timed step). */
  ms: number;
  timedSteps: number;
  warmupMs: number[];
  /** Why fewer steps than asked were timed (the time cap), if they were. */
  capped?: string;
  maxRssMiB: number;
  /** Loss after each step: a check that the model trains (it falls from ~3.8). */
  losses: number[];
}

export interface TfjsRun {
  results: TfjsTrainResult[];
  /** One line per backend that could not be measured, and why. */
  problems: string[];
}

/** The installed TF.js version, or why TF.js cannot run here. */
export function tfjsAvailability(): { version: string } | { missing: string } {
  const require = createRequire(import.meta.url);
  try {
    for (const p of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu']) require.resolve(p);
    const { version } = require('@tensorflow/tfjs-core/package.json') as { version: string };
    return { version };
  } catch (e) {
    return { missing: `TensorFlow.js not installed (${(e as Error).message.split('\n')[0]}); npm install brings the devDependencies` };
  }
}

/** One TF.js backend in a child process, stopped after `capMs`; a string saying why if no step finished. */
function runChild(req: TfjsRequest, capMs: number): TfjsTrainResult | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'tfjs', 'child.ts'), JSON.stringify(req)], {
    encoding: 'utf8', timeout: capMs, killSignal: 'SIGKILL', maxBuffer: 1 << 24,
  });
  const events = (r.stdout ?? '').split('\n').flatMap((line) => {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      return typeof o === 'object' && o && 'event' in o ? [o] : [];
    } catch {
      return [];
    }
  });
  const error = events.find((e) => e.event === 'error');
  if (error) return `TF.js ${req.backend}: ${String(error.message)}`;
  const ready = events.find((e) => e.event === 'ready');
  const steps = events.filter((e) => e.event === 'step') as unknown as { warmup: boolean; ms: number; loss: number; maxRssMiB: number }[];
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (!ready || steps.length === 0) {
    const why = timedOut ? `no step finished within the ${(capMs / 1000).toFixed(0)} s cap`
      : `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    return `TF.js ${req.backend}: ${why}`;
  }
  const timed = steps.filter((s) => !s.warmup).map((s) => s.ms).sort((a, b) => a - b);
  const warmupMs = steps.filter((s) => s.warmup).map((s) => s.ms);
  const ms = timed.length ? timed[Math.floor(timed.length / 2)] : warmupMs[warmupMs.length - 1];
  const capped = timed.length < req.reps
    ? `capped at ${(capMs / 1000).toFixed(0)} s: ${timed.length ? `${timed.length} of ${req.reps} timed steps` : 'warm-up step only (includes first-call costs)'}`
    : undefined;
  return {
    backend: req.backend, version: String(ready.version), flavour: String(ready.flavour), ms, timedSteps: timed.length, warmupMs,
    ...(capped ? { capped } : {}), maxRssMiB: Math.max(...steps.map((s) => s.maxRssMiB)), losses: steps.map((s) => s.loss),
  };
}

/**
 * Times the TF.js training step of `c` on each backend: `reps` timed steps after one warm-up, each
 * backend's child stopped at `capMs[backend]`.
 */
export function tfjsTrainStep(c: StepCase, plan: { backend: TfjsBackend; reps: number; capMs: number }[]): TfjsRun {
  const avail = tfjsAvailability();
  if ('missing' in avail) return { results: [], problems: [avail.missing] };
  const results: TfjsTrainResult[] = [];
  const problems: string[] = [];
  const { vocabSize, blockSize, nLayer, nHead, nEmbd } = c.config;
  for (const p of plan) {
    const r = runChild({ backend: p.backend, config: { vocabSize, blockSize, nLayer, nHead, nEmbd }, batch: c.batch, warmup: 1, reps: p.reps }, p.capMs);
    if (typeof r === 'string') problems.push(r);
    else results.push(r);
  }
  return { results, problems };
}

export const tfjsName = (r: TfjsTrainResult) => `tfjs ${r.backend} ${r.version}`;

/**
 * resnorm's default-config train rows (ms/step and tokens/s of each wasm thread count), each beside
 * each TF.js backend: the ratio column is how many times faster resnorm is.
 */
export function tfjsRows(trainDefault: readonly Row[], run: TfjsRun, c: StepCase): Row[] {
  const ours = trainDefault.filter((r) => r.bench.includes('wasm'));
  const tokens = c.batch * c.config.blockSize;
  return run.results.flatMap((t) => ours.map((r, i) => {
    const value = r.unit === 'tokens/s' ? (tokens * 1000) / t.ms : t.ms;
    const note = i === 0
      ? `TF.js ${t.backend} (${t.flavour}): ${t.timedSteps} timed step${t.timedSteps === 1 ? '' : 's'} after ${t.warmupMs.length} warm-up ` +
        `(${t.warmupMs.map((w) => w.toFixed(0)).join(', ')} ms); peak RSS ${t.maxRssMiB.toFixed(0)} MiB${t.capped ? `; ${t.capped}` : ''}`
      : undefined;
    const { note: _drop, ...row } = r;
    return { ...row, section: 'train step vs TF.js', reference: { name: tfjsName(t), value }, ...(note ? { note } : {}) };
  }));
}
