// The kill-9 soak: trains a tiny model with the real `resnorm train`, SIGKILLs it at random instants
// (while starting, resuming, training, evaluating, appending metrics, saving or pruning), resumes it
// each time, and at the end checks that the weights and the metric log equal those of a run that was
// never interrupted, bit for bit.
//
//   npm run soak -- --trials 100 [--seed 1]        (test/cli/kill-soak.test.ts runs a short one)

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/tensor/rng.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'resnorm.js');

export interface SoakReport {
  trials: number;
  /** Trials whose process was killed before it finished (the others ran to the end first). */
  killed: number;
  /** Kills that came before the run's first checkpoint, so the next trial started it again. */
  restarts: number;
  /** Resumes that found and removed a torn metrics line, or debris of an interrupted save. */
  tornLogs: number;
  debris: number;
  /** The step each resume started from. */
  resumedFrom: number[];
  /** The final weights and metric log equal the uninterrupted run's. */
  identical: boolean;
  mismatch?: string;
}

export interface SoakOptions {
  trials: number;
  seed?: number;
  log?: (line: string) => void;
  maxIters?: number;
}

function trainArgs(corpus: string, maxIters: number): string[] {
  // Evaluations (and so saves, with pruning) every 3 steps and a metric line every step: a random kill
  // often lands in a save or an append.
  return ['--threads', '1', 'train', '--data', corpus, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4',
    '--eval-iters', '1', '--eval-interval', '3', '--log-interval', '1', '--sample-length', '0', '--keep-checkpoints', '2', '--keep-best', '--max-iters', String(maxIters)];
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `killAt` decides, from the output so far, when to SIGKILL it (ms after the decision). */
function runCli(args: string[], killAfter: (stdout: string) => number | null): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    const arm = () => {
      if (timer) return;
      const ms = killAfter(stdout);
      if (ms !== null) timer = setTimeout(() => child.kill('SIGKILL'), ms);
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      arm();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    arm();
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What must match between two runs: everything in the log but the timings. */
function metricRecords(dir: string): string {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { step, trainLoss, valLoss, lr, gradNorm } = JSON.parse(l) as Record<string, number>;
      return JSON.stringify({ step, trainLoss, valLoss, lr, gradNorm });
    })
    .join('\n');
}

function latestWeights(dir: string): Buffer {
  const index = JSON.parse(readFileSync(join(dir, 'checkpoints', 'index.json'), 'utf8')) as { checkpoints: { dir: string }[] };
  return readFileSync(join(dir, index.checkpoints.at(-1)!.dir, 'model.safetensors'));
}

export async function killSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const rng = new Rng(o.seed ?? 1);
  const maxIters = o.maxIters ?? 150 * o.trials;
  const root = mkdtempSync(join(tmpdir(), 'resnorm-soak-'));
  try {
    const corpus = join(root, 'corpus.txt');
    writeFileSync(corpus, 'It was the best of times, it was the worst of times. '.repeat(60));
    const args = trainArgs(corpus, maxIters);
    const reference = join(root, 'reference');
    const ref = await runCli([...args, '--out', reference], () => null);
    if (ref.code !== 0) throw new Error(`the uninterrupted run failed: ${ref.stderr}`);
    const soak = join(root, 'soak');
    const report: SoakReport = { trials: o.trials, killed: 0, restarts: 0, tornLogs: 0, debris: 0, resumedFrom: [], identical: false };
    let finished = false;
    for (let i = 0; i < o.trials && !finished; i++) {
      const started = existsSync(join(soak, 'checkpoints', 'index.json'));
      if (!started && i > 0) report.restarts++;
      // A quarter of the kills come in the first 2.5 s after the spawn, mostly while the process starts
      // or resumes (lock, garbage, log repair);
      // the rest once it trains: up to 1.5 s in, which spans many saves.
      const early = rng.uniform() < 0.25;
      const delay = Math.floor(rng.uniform() * (early ? 2500 : 1500));
      const r = await runCli(started ? ['--threads', '1', 'train', '--resume', soak] : [...args, '--out', soak], (out) =>
        early ? delay : /training \d+ iterations/.test(out) ? delay : null,
      );
      if (/torn line/.test(r.stdout)) report.tornLogs++;
      if (/removed what an interrupted save left/.test(r.stdout)) report.debris++;
      const from = /resuming .* at step (\d+)/.exec(r.stdout);
      if (from) report.resumedFrom.push(Number(from[1]));
      if (r.signal === 'SIGKILL') report.killed++;
      // A kill after the last save (while printing the final sample) leaves a finished run.
      else if (r.code === 0 || /is already at step \d+ = maxIters/.test(r.stderr)) finished = true;
      else throw new Error(`trial ${i}: resnorm train failed instead of resuming:\n${r.stderr}`);
      log(`trial ${i + 1}/${o.trials}: ${r.signal === 'SIGKILL' ? `killed ${early ? 'early' : 'while training'} after ${delay} ms` : 'ran to the end'}${from ? `, had resumed from step ${from[1]}` : started ? '' : ', new run'}`);
    }
    if (!finished) {
      const started = existsSync(join(soak, 'checkpoints', 'index.json'));
      const r = await runCli(started ? ['--threads', '1', 'train', '--resume', soak] : [...args, '--out', soak], () => null);
      if (r.code !== 0) throw new Error(`the final resume failed:\n${r.stderr}`);
      const from = /resuming .* at step (\d+)/.exec(r.stdout);
      if (from) report.resumedFrom.push(Number(from[1]));
    }
    const sameWeights = latestWeights(soak).equals(latestWeights(reference));
    const sameLog = metricRecords(soak) === metricRecords(reference);
    report.identical = sameWeights && sameLog;
    if (!sameWeights) report.mismatch = 'final weights differ';
    else if (!sameLog) report.mismatch = 'metrics.jsonl differs (steps, losses, lr or gradient norms)';
    return report;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const trials = flag('--trials', 100);
  const report = await killSoak({ trials, seed: flag('--seed', 1), maxIters: flag('--max-iters', 150 * trials), log: (l) => console.log(l) });
  console.log(JSON.stringify(report, null, 2));
  console.log(report.identical ? `${report.killed} SIGKILLs, each followed by a resume: final weights and metric log identical to the uninterrupted run` : `MISMATCH: ${report.mismatch}`);
  process.exit(report.identical ? 0 : 1);
}
