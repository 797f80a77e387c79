// Views of a backend that take capabilities away, to prove the engine needs only what the contract
// requires: coreOnly hides every fused kernel and capture (the op front-end then composes them from
// the core), asyncOnly hides readSync and reports kernel errors at the next read, as a GPU backend does.

import { FUSED_KERNELS, type Backend, type HostArray, type Storage } from './backend.ts';

const CAPTURE = ['beginCapture', 'endCapture', 'labelLaunches'] as const;

/** `b` with the listed methods absent and every other member forwarded (methods bound to `b`). */
function without(b: Backend, name: string, hidden: ReadonlySet<string>, override: Partial<Backend> = {}): Backend {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(b, {
    get(target, key) {
      if (key === 'name') return name;
      if (typeof key === 'string' && hidden.has(key)) return undefined;
      if (key in override) return override[key as keyof Backend];
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      if (!bound.has(key)) bound.set(key, (v as (...a: unknown[]) => unknown).bind(target));
      return bound.get(key);
    },
    has(target, key) {
      return !(typeof key === 'string' && hidden.has(key)) && Reflect.has(target, key);
    },
  });
}

/** Only the required core: every layer op runs as its composition of primitives. */
export function coreOnly(b: Backend): Backend {
  return without(b, `${b.name} (core only)`, new Set<string>([...FUSED_KERNELS, ...CAPTURE]));
}

/**
 * No synchronous reads, like a GPU backend: values arrive only through `await read()`. A kernel that
 * throws (an id out of range, a bad target) does not throw at launch either: the error is kept and
 * rejects the next read, which is how a GPU backend reports what its kernels found.
 */
export function asyncOnly(b: Backend): Backend {
  let pending: unknown = null;
  const deferred = new Set<string>(['embeddingForward', 'embeddingBackward', 'crossEntropyForward', 'crossEntropyBackward']);
  const view: Backend = without(b, `${b.name} (async only)`, new Set(['readSync', ...CAPTURE]), {
    async read(s: Storage): Promise<HostArray> {
      await Promise.resolve(); // never synchronous, even when the data is at hand
      if (pending !== null) {
        const e = pending;
        pending = null;
        throw e;
      }
      return b.read(s);
    },
    ...Object.fromEntries(
      [...deferred].map((k) => [
        k,
        (...args: unknown[]) => {
          try {
            (b[k as keyof Backend] as (...a: unknown[]) => void).apply(b, args);
          } catch (e) {
            pending ??= e;
          }
        },
      ]),
    ),
  });
  return view;
}
