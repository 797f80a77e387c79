// The files of a lab run on disk, and the facts about this machine and checkout a report states:
//   <out>/<name>/<mode>/results/<job>.json   one finished job (written atomically, last)
//   <out>/<name>/<mode>/runs/<job>/          its resnorm run directory (logs; checkpoints until it finishes)
//   <out>/<name>/<mode>/logs/worker-<k>.log  what each worker process printed
//   <out>/<name>/report.md, report.html, fig-N.svg

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { JobResult } from '../lab/job.ts';
import type { JobSpec } from '../lab/plan.ts';
import type { LabMode } from '../lab/experiment.ts';

export interface LabPaths {
  /** <out>/<name> */
  root: string;
  /** <out>/<name>/<mode>[-steps<N>] */
  modeDir: string;
  results: string;
  runs: string;
  logs: string;
}

export function labPaths(out: string, name: string, mode: LabMode, steps?: number): LabPaths {
  const root = join(out, name);
  const modeDir = join(root, steps === undefined ? mode : `${mode}-steps${steps}`);
  return { root, modeDir, results: join(modeDir, 'results'), runs: join(modeDir, 'runs'), logs: join(modeDir, 'logs') };
}

export function resultPath(p: LabPaths, job: JobSpec): string {
  return join(p.results, `${job.id}.json`);
}

/** Writes a file so a crash leaves the old one or the new one: temporary file, then rename. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The job's stored result, when it exists, parses and was made by this very job (same hash and version). */
export function readResult(path: string, job: JobSpec): JobResult | null {
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as JobResult;
    return r.hash === job.hash && r.id === job.id ? r : null;
  } catch {
    return null;
  }
}

export function ensureDirs(p: LabPaths): void {
  for (const d of [p.results, p.runs, p.logs]) mkdirSync(d, { recursive: true });
}

/** HEAD's short hash, with '+' when tracked files under src/ differ from it; 'unknown' outside git. */
export function currentCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}+` : head;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): { cpu: string; cores: number; node: string } {
  const c = cpus();
  return { cpu: c[0]?.model.trim() ?? 'unknown CPU', cores: c.length, node: process.versions.node };
}
