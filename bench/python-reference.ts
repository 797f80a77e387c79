// Runs bench/reference.py (PyTorch / NumPy) when Debian's python3-torch is installed, so each figure
// has a reference measured on the same machine in the same run. Absent Python, rows carry no reference.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/python3', 'python3'];
let found: string | null | undefined;

export function findTorchPython(): string | null {
  if (found !== undefined) return found;
  found = null;
  for (const py of CANDIDATES) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return (found = py);
  }
  return found;
}

/**
 * Where an environment pins OpenBLAS's kernels (OPENBLAS_CORETYPE, with OPENBLAS_L2_SIZE; some hosts set
 * them because older OpenBLAS builds misdetect their CPU), the reference processes run without both, on
 * OpenBLAS's own detection: NumPy and PyTorch at their best, which is what resnorm is held to.
 */
export const PINNED_OPENBLAS_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/**
 * Calls bench/reference.py with a JSON request; returns its JSON answer, or null without torch.
 * `env` is added to this process's environment (OPENBLAS_NUM_THREADS must be set before NumPy loads).
 */
export function runPythonReference<T>(request: Record<string, unknown>, env: Record<string, string> = {}): T | null {
  const py = findTorchPython();
  if (!py) return null;
  const base: Record<string, string | undefined> = { ...process.env };
  for (const v of PINNED_OPENBLAS_VARS) delete base[v];
  const r = spawnSync(py, [join(import.meta.dirname, 'reference.py'), JSON.stringify(request)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...base, ...env },
  });
  if (r.status !== 0) {
    console.error(`bench/reference.py failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(r.stdout) as T;
}

/** OpenBLAS's own report from inside the reference process (bench/reference.py's openblas_info). */
export interface OpenblasInfo {
  threads: number;
  /** The kernel set it runs (OPENBLAS_CORETYPE, when set, overrides the CPU's own). */
  core: string;
  config: string;
}

/** One PyTorch thread setting: torch.set_num_threads (and OMP_NUM_THREADS) × OPENBLAS_NUM_THREADS. */
export interface TorchSetting {
  torchThreads: number;
  blasThreads: number;
  ms: number;
  maxRssMiB: number;
}

/** PyTorch timed at every setting of the grid, and the fastest: the reference every PyTorch row is held to. */
export interface TorchTimes {
  /** Every setting, in the order run (torch threads outer, OpenBLAS threads inner). */
  grid: TorchSetting[];
  best: TorchSetting & {
    /** = torchThreads. Kept for callers that name the reference `pytorch ${threads}t`: use torchRefName. */
    threads: number;
  };
  /** Peak RSS of the PyTorch process (the largest over the settings). */
  maxRssMiB: number;
  openblas: OpenblasInfo | null;
}

/** 1..n: the values each of the two thread counts runs through. */
export function threadRange(n: number): number[] {
  return Array.from({ length: Math.max(1, n) }, (_, i) => i + 1);
}

/**
 * Times one PyTorch request at every (torch threads, OpenBLAS threads) pair drawn from `threadCounts`
 * (the bench passes 1..cores), each in its own process: OPENBLAS_NUM_THREADS has to be in the
 * environment before OpenBLAS loads (it sizes its pool once, and torch.set_num_threads leaves that pool
 * alone), OMP_NUM_THREADS and the request's torchThreads set torch's OpenMP pool. On a 2-core machine
 * PyTorch is fastest at neither (1, 1) nor (2, 2) but at one torch thread over two OpenBLAS threads.
 */
export function runTorchTimed(request: Record<string, unknown>, threadCounts: readonly number[]): TorchTimes | null {
  const grid: TorchSetting[] = [];
  let openblas: OpenblasInfo | null = null;
  for (const torchThreads of threadCounts) {
    for (const blasThreads of threadCounts) {
      const env = { OMP_NUM_THREADS: String(torchThreads), OPENBLAS_NUM_THREADS: String(blasThreads) };
      const r = runPythonReference<{ ms: number; torchThreads: number; openblas: OpenblasInfo | null; maxRssMiB: number }>({ ...request, torchThreads }, env);
      if (!r) return null;
      // A setting that did not take would put a mislabelled figure in the grid: say so rather than guess.
      if (r.torchThreads !== torchThreads || (r.openblas && r.openblas.threads !== blasThreads)) {
        console.error(`bench/reference.py: asked for torch ${torchThreads} × OpenBLAS ${blasThreads} threads, ran torch ${r.torchThreads} × OpenBLAS ${r.openblas?.threads}`);
      }
      openblas ??= r.openblas;
      grid.push({ torchThreads: r.torchThreads, blasThreads: r.openblas?.threads ?? blasThreads, ms: r.ms, maxRssMiB: r.maxRssMiB });
    }
  }
  if (grid.length === 0) return null;
  const best = grid.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { grid, best: { ...best, threads: best.torchThreads }, maxRssMiB: Math.max(...grid.map((s) => s.maxRssMiB)), openblas };
}

/** "torch 1 × OpenBLAS 2": a setting as the table prints it. */
export function torchSettingName(s: Pick<TorchSetting, 'torchThreads' | 'blasThreads'>): string {
  return `torch ${s.torchThreads} × OpenBLAS ${s.blasThreads}`;
}

/** The reference's name in a row: PyTorch at the setting that won. */
export function torchRefName(t: TorchTimes): string {
  return `pytorch best, ${torchSettingName(t.best)}`;
}

/** The whole grid for a row's note: "pytorch torch×OpenBLAS threads 1×1 76.0, 1×2 62.0, ... ms; best 1×2". */
export function describeTorch(t: TorchTimes): string {
  const fmt = (ms: number) => ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2);
  const all = t.grid.map((s) => `${s.torchThreads}×${s.blasThreads} ${fmt(s.ms)}`).join(', ');
  return `pytorch torch×OpenBLAS threads: ${all} ms; best ${t.best.torchThreads}×${t.best.blasThreads}`;
}
