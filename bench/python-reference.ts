// Runs bench/reference.py (PyTorch / NumPy) when Debian's python3-torch is installed, so each figure
// has a reference measured on the same machine in the same run. Absent Python, rows carry no reference.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/python3', 'python3'];

export function findTorchPython(): string | null {
  for (const py of CANDIDATES) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

/** Calls bench/reference.py with a JSON request; returns its JSON answer, or null without torch. */
export function runPythonReference<T>(request: Record<string, unknown>): T | null {
  const py = findTorchPython();
  if (!py) return null;
  const r = spawnSync(py, [join(import.meta.dirname, 'reference.py'), JSON.stringify(request)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.error(`bench/reference.py failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(r.stdout) as T;
}
