// A growable column table of numbers (step, wall time, and named value columns): how the page keeps a
// run's series, so that 100k points cost a few typed arrays, not 100k objects, and appending is O(1).

export class Table {
  n = 0;
  /** Bumped on every change; charts redraw when it moves. */
  version = 0;
  /** Bumped when rows are removed (a resume replaced them): caches built on the old rows are void. */
  epoch = 0;
  step = new Float64Array(64);
  /** Seconds since the run started, resumes included (see RunClock). */
  wall = new Float64Array(64);
  private cols = new Map<string, Float64Array>();

  /** The column's values (length ≥ n; rows past n are garbage), or null when no row has set it. */
  col(name: string): Float64Array | null {
    return this.cols.get(name) ?? null;
  }

  get names(): string[] {
    return [...this.cols.keys()];
  }

  /** Appends one row; a column not named in `values` is NaN in it, a new column is NaN in earlier rows. */
  push(step: number, wall: number, values: Iterable<[string, number]>): void {
    if (this.n === this.step.length) this.grow(this.n * 2);
    const i = this.n++;
    this.step[i] = step;
    this.wall[i] = wall;
    for (const c of this.cols.values()) c[i] = NaN;
    for (const [name, v] of values) {
      let c = this.cols.get(name);
      if (!c) {
        c = new Float64Array(this.step.length).fill(NaN);
        this.cols.set(name, c);
      }
      c[i] = v;
    }
    this.version++;
  }

  /** Removes the rows from the first one whose step is ≥ `step` (they are in step order). */
  truncateFrom(step: number): void {
    let i = this.n;
    while (i > 0 && this.step[i - 1] >= step) i--;
    if (i === this.n) return;
    this.n = i;
    this.version++;
    this.epoch++;
  }

  get lastStep(): number {
    return this.n > 0 ? this.step[this.n - 1] : -Infinity;
  }

  /** Index of the last row with step ≤ `step`, or -1. */
  indexAtOrBefore(step: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.step[mid] <= step) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private grow(cap: number): void {
    const copy = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.step = copy(this.step);
    this.wall = copy(this.wall);
    for (const [k, c] of this.cols) this.cols.set(k, copy(c));
  }
}
