// Counts a backend's calls of some of its kernels, so a test page can show that a model went through a
// fused kernel rather than the op front-end's composition (which gives the same numbers, and would pass
// unnoticed if the front-end stopped finding the kernel).

/** Wraps `names` on this backend instance; the returned counts grow with each call. */
export function countCalls<B extends object>(be: B, names: readonly (keyof B & string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const methods = be as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of names) {
    const f = methods[name];
    if (typeof f !== 'function') throw new Error(`the backend has no ${name} to count`);
    counts[name] = 0;
    methods[name] = (...a: unknown[]) => {
      counts[name]++;
      return f.apply(be, a);
    };
  }
  return counts;
}
