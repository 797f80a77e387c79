// A Backend wrapper that adds each method's wall time (and call count) into maps, for kernel profiles.
import type { Backend } from '../../src/backend/backend.ts';

export function timed(be: Backend, times: Map<string, number>, calls?: Map<string, number>): Backend {
  return new Proxy(be, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        times.set(prop, (times.get(prop) ?? 0) + performance.now() - t0);
        calls?.set(prop, (calls.get(prop) ?? 0) + 1);
        return r;
      };
    },
  });
}
