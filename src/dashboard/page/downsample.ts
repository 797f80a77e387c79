// Downsampling for display, never for storage: of the points in view, keep per pixel column the first,
// the last, and the lowest and highest of each curve (M4: Jugel et al., "M4: A Visualization-Oriented
// Time Series Data Aggregation", VLDB 2014). A line through these draws the same pixels as a line
// through every point, so spikes survive, and 100k points become at most ~4 per pixel column.

/** The first index i in [0, n) with x[i] ≥ v (n when none); x ascending. */
export function lowerBound(x: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i in [0, n) with x[i] > v (n when none); x ascending. */
export function upperBound(x: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index range [i0, i1) of the points with x in [min, max], plus one neighbour each side (lines run to the edges). */
export function viewRange(x: ArrayLike<number>, n: number, min: number, max: number): [number, number] {
  const i0 = Math.max(0, lowerBound(x, n, min) - 1);
  const i1 = Math.min(n, upperBound(x, n, max) + 1);
  return [i0, Math.max(i0, i1)];
}

/**
 * The indices, ascending, of the points of x[i0..i1) to draw for `buckets` pixel columns: per column the
 * first and last point, and for each of `ys` its minimum, its maximum, and its first non-finite value
 * (so a gap stays a gap). All of them when there are few enough points.
 */
export function m4Indices(x: ArrayLike<number>, ys: readonly ArrayLike<number>[], i0: number, i1: number, buckets: number): Int32Array {
  const count = i1 - i0;
  if (count <= 0) return new Int32Array(0);
  if (count <= 4 * buckets) {
    const all = new Int32Array(count);
    for (let i = 0; i < count; i++) all[i] = i0 + i;
    return all;
  }
  const x0 = x[i0];
  const span = x[i1 - 1] - x0;
  const scale = span > 0 ? buckets / span : 0;
  const out: number[] = [];
  const pick: number[] = [];
  const nY = ys.length;
  const minI = new Int32Array(nY);
  const maxI = new Int32Array(nY);
  const badI = new Int32Array(nY);
  let bucket = -1;
  let first = i0;
  const flush = (last: number) => {
    pick.length = 0;
    pick.push(first, last);
    for (let k = 0; k < nY; k++) {
      if (minI[k] >= 0) pick.push(minI[k], maxI[k]);
      if (badI[k] >= 0) pick.push(badI[k]);
    }
    pick.sort((a, b) => a - b);
    for (let j = 0; j < pick.length; j++) if (j === 0 || pick[j] !== pick[j - 1]) out.push(pick[j]);
  };
  for (let i = i0; i < i1; i++) {
    const b = Math.min(buckets - 1, Math.floor((x[i] - x0) * scale));
    if (b !== bucket) {
      if (bucket >= 0) flush(i - 1);
      bucket = b;
      first = i;
      minI.fill(-1);
      maxI.fill(-1);
      badI.fill(-1);
    }
    for (let k = 0; k < nY; k++) {
      const v = ys[k][i];
      if (!Number.isFinite(v)) {
        if (badI[k] < 0) badI[k] = i;
      } else {
        if (minI[k] < 0 || v < ys[k][minI[k]]) minI[k] = i;
        if (maxI[k] < 0 || v > ys[k][maxI[k]]) maxI[k] = i;
      }
    }
  }
  flush(i1 - 1);
  return Int32Array.from(out);
}
