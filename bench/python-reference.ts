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
 * Calls bench/reference.py with a JSON request; returns its JSON answer, or null without torch.
 * `env` is added to this process's environment (OPENBLAS_NUM_THREADS must be set before NumPy loads).
 */
export function runPythonReference<T>(request: Record<string, unknown>, env: Record<string, string> = {}): T | null {
  const py = findTorchPython();
  if (!py) return null;
  const r = spawnSync(py, [join(import.meta.dirname, 'reference.py'), JSON.stringify(request)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) {
    console.error(`bench/reference.py failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(r.stdout) as T;
}

/** PyTorch times at each thread count, and the best of them: the reference every row is held to. */
export interface TorchTimes {
  byThreads: Record<string, number>;
  best: { threads: number; ms: number };
  /** Peak RSS of the PyTorch process (the largest over the thread counts). */
  maxRssMiB: number;
}

/**
 * Times one PyTorch request at each thread count, each in its own process with OpenMP and OpenBLAS
 * limited to that count (torch.set_num_threads alone leaves OpenBLAS's own pool at every core).
 */
export function runTorchTimed(request: Record<string, unknown>, threadCounts: readonly number[]): TorchTimes | null {
  const byThreads: Record<string, number> = {};
  let maxRssMiB = 0;
  for (const t of threadCounts) {
    const env = { OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: String(t) };
    const r = runPythonReference<{ ms: Record<string, number>; maxRssMiB: number }>({ ...request, threadCounts: [t] }, env);
    if (!r) return null;
    byThreads[String(t)] = r.ms[String(t)];
    maxRssMiB = Math.max(maxRssMiB, r.maxRssMiB);
  }
  const [threads, ms] = Object.entries(byThreads).reduce((a, b) => (b[1] < a[1] ? b : a));
  return { byThreads, best: { threads: Number(threads), ms }, maxRssMiB };
}

export function describeTorch(t: TorchTimes): string {
  const all = Object.entries(t.byThreads).map(([n, ms]) => `${n}t ${ms.toFixed(ms >= 100 ? 0 : 2)} ms`).join(', ');
  return `pytorch ${all}; best ${t.best.threads}t`;
}
