// How many threads the page asks of the engine. Threads share the wasm memory, a SharedArrayBuffer, which
// browsers hand between workers only on a cross-origin-isolated page (served with COOP/COEP, in a secure
// context: https, or http on 127.0.0.1/localhost). Elsewhere the engine runs on one thread, and the page
// says why. `?threads=N` asks for N, `?kernels=simd|relaxed` picks the wasm build (default: the best),
// `?backend=webgpu` asks for the WebGPU backend (the engine falls back to wasm, saying why, where it cannot).

import { ENGINE_BACKENDS, type BackendRequest, type EngineBackend } from '../../worker/protocol.ts';

export interface BackendChoice {
  backend: BackendRequest & { threads: number };
  isolated: boolean;
  /** The thread count asked for in the URL, when it was more than this page can have. */
  refused: number | null;
  /** A ?threads= or ?kernels= value that means nothing, to say so. */
  bad: string | null;
}

export function chooseBackend(params: URLSearchParams, isolated: boolean, cores: number): BackendChoice {
  let bad: string | null = null;
  const asked = params.get('threads');
  let threads = cores;
  if (asked !== null) {
    const n = Number(asked);
    if (Number.isInteger(n) && n >= 1 && n <= 256) threads = n;
    else bad = `?threads=${asked} is not a thread count (1 to 256); using ${cores}`;
  }
  const k = params.get('kernels');
  let relaxed: boolean | 'auto' = 'auto';
  if (k === 'simd') relaxed = false;
  else if (k === 'relaxed') relaxed = true;
  else if (k !== null && k !== 'auto') bad = `?kernels=${k} is not a kernel build (simd, relaxed or auto)`;
  const b = params.get('backend');
  let kind: EngineBackend = 'wasm';
  if (b !== null && (ENGINE_BACKENDS as readonly string[]).includes(b)) kind = b as EngineBackend;
  else if (b !== null) bad = `?backend=${b} is not a backend (${ENGINE_BACKENDS.join(' or ')})`;
  const refused = !isolated && threads > 1 ? threads : null;
  return { backend: { kind, threads: isolated ? threads : 1, relaxed }, isolated, refused, bad };
}

/** What the page says about its threads, or null when all is as asked. */
export function threadsNote(c: BackendChoice): string | null {
  const notes: string[] = [];
  if (!c.isolated) {
    notes.push(
      'This page is not cross-origin isolated, so the engine runs on one thread' +
        (c.refused !== null ? ` (not ${c.refused})` : '') +
        ': threads share memory through a SharedArrayBuffer, which browsers give only to pages served with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, over https or from 127.0.0.1/localhost. `resnorm demo` serves it so; open its URL on the machine it runs on.',
    );
  }
  if (c.bad) notes.push(c.bad);
  return notes.length > 0 ? notes.join(' ') : null;
}
