// Error measures for parity tests: relative error = max|a − b| / max|b| (with a floor so that an
// all-zero reference compares absolutely).

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let d = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= d)) d = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(d, e);
  }
  return d / Math.max(maxAbs(expected), 1e-6);
}
