// TensorBoard's smoothing: an exponential moving average over the points in order, debiased so the
// first points are not pulled toward 0 (last = w·last + (1−w)·v; shown = last / (1 − w^k) after k
// points). Non-finite values are passed through and do not enter the average. It runs on the full
// series, before any downsampling for display, so the curve does not depend on the zoom or the width.

/** Smooths y[0..n) with weight w in [0, 1) into out (which may be y itself). */
export function emaDebiased(y: ArrayLike<number>, n: number, w: number, out: Float64Array): Float64Array {
  const s = new EmaState(w);
  for (let i = 0; i < n; i++) out[i] = s.next(y[i]);
  return out;
}

export class EmaState {
  private last = 0;
  /** w^k after k points (a running product: Math.pow per point was most of the cost). */
  private wk = 1;
  constructor(readonly w: number) {}

  next(v: number): number {
    if (!Number.isFinite(v)) return v;
    this.last = this.last * this.w + (1 - this.w) * v;
    this.wk *= this.w;
    return this.w === 0 ? v : this.last / (1 - this.wk);
  }
}

/**
 * The smoothed copy of one column, extended as the column grows: appending m points costs O(m), so a
 * live 100k-point series is not smoothed again from the start on every update. Rebuilt when the
 * weight changes or rows were removed (the table's epoch moved).
 */
export class EmaCache {
  private out = new Float64Array(0);
  private done = 0;
  private state: EmaState | null = null;
  private epoch = -1;

  /** The smoothed values of y[0..n) (valid up to n). */
  get(y: Float64Array, n: number, w: number, epoch: number): Float64Array {
    if (this.state?.w !== w || epoch !== this.epoch || n < this.done) {
      this.state = new EmaState(w);
      this.done = 0;
      this.epoch = epoch;
    }
    if (this.out.length < n) {
      const b = new Float64Array(Math.max(n, this.out.length * 2, 64));
      b.set(this.out.subarray(0, this.done));
      this.out = b;
    }
    for (let i = this.done; i < n; i++) this.out[i] = this.state!.next(y[i]);
    this.done = n;
    return this.out;
  }
}
