// What the line charts draw (src/dashboard/page/ema.ts, downsample.ts, line-data.ts): TensorBoard's
// debiased EMA, extended incrementally; M4 downsampling that keeps every extreme; smoothing done on the
// full series so the curve is the same however it is downsampled; the join of several runs on one x.
import { describe, expect, it } from 'vitest';
import { EmaCache, emaDebiased } from '../../src/dashboard/page/ema.ts';
import { m4Indices, viewRange } from '../../src/dashboard/page/downsample.ts';
import { join, lineData, pointNear, exportSeries, type LineSpec } from '../../src/dashboard/page/line-data.ts';
import { Table } from '../../src/dashboard/page/table.ts';

/** TensorBoard's smoothing as its frontend writes it (tensorboard/webapp/widgets/line_chart_v2/lib/data_transformer.ts). */
function tensorboardEma(values: number[], w: number): number[] {
  let last = values.length > 0 ? 0 : NaN;
  let numAccum = 0;
  const constant = values.every((v) => v === values[0]);
  return values.map((v) => {
    if (constant || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    numAccum++;
    return last / (w === 1 ? 1 : 1 - Math.pow(w, numAccum));
  });
}

function noisy(n: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 3 * Math.exp(-i / 300) + (s / 2147483648 - 0.5);
  });
}

function table(ys: number[], step = (i: number) => (i + 1) * 10): Table {
  const t = new Table();
  ys.forEach((y, i) => t.push(step(i), i * 0.5, [['y', y]]));
  return t;
}

describe('EMA smoothing', () => {
  it('is TensorBoard’s debiased EMA, non-finite values passed through', () => {
    const v = noisy(500);
    v[17] = NaN;
    v[300] = Infinity;
    for (const w of [0, 0.6, 0.9, 0.999]) {
      const ours = [...emaDebiased(v, v.length, w, new Float64Array(v.length))];
      const tb = tensorboardEma(v, w);
      ours.forEach((x, i) => (Number.isFinite(tb[i]) ? expect(x).toBeCloseTo(tb[i], 12) : expect(x).toBe(tb[i])));
    }
  });

  it('extends incrementally to the same values, and starts over on a new weight or removed rows', () => {
    const v = noisy(1000);
    const full = emaDebiased(v, v.length, 0.9, new Float64Array(v.length));
    const c = new EmaCache();
    const y = Float64Array.from(v);
    for (const n of [1, 2, 50, 51, 600, 1000]) expect([...c.get(y, n, 0.9, 0).subarray(0, n)]).toEqual([...full.subarray(0, n)]);
    expect(c.get(y, 1000, 0.5, 0)[999]).toBeCloseTo(emaDebiased(v, 1000, 0.5, new Float64Array(1000))[999], 12);
    const y2 = Float64Array.from(v);
    y2[500] = 100; // rows from 500 replaced (a resume): the epoch moves
    expect(c.get(y2, 1000, 0.5, 1)[999]).toBeCloseTo(emaDebiased(y2, 1000, 0.5, new Float64Array(1000))[999], 12);
  });
});

describe('M4 downsampling', () => {
  it('keeps every point when there are few, and per pixel column the first, last, minimum and maximum otherwise', () => {
    const x = Array.from({ length: 100_000 }, (_, i) => i);
    const y = noisy(100_000);
    y[54_321] = 50; // one spike
    y[77_777] = NaN; // one gap
    expect([...m4Indices(x, [y], 0, 30, 10)]).toEqual(x.slice(0, 30));
    const idx = m4Indices(x, [y], 0, x.length, 500);
    expect(idx.length).toBeLessThanOrEqual(5 * 500);
    expect([...idx]).toContain(54_321);
    expect([...idx]).toContain(77_777);
    expect([idx[0], idx[idx.length - 1]]).toEqual([0, 99_999]);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
    // Every column's extremes are kept: the min and max over each 200-point column are among the picks.
    const picked = new Set(idx);
    for (let c = 0; c < 500; c += 37) {
      const col = y.slice(c * 200, c * 200 + 200).map((v, k) => [v, c * 200 + k] as const).filter(([v]) => Number.isFinite(v));
      const min = col.reduce((a, b) => (b[0] < a[0] ? b : a));
      const max = col.reduce((a, b) => (b[0] > a[0] ? b : a));
      expect(picked.has(min[1]) && picked.has(max[1])).toBe(true);
    }
  });

  it('finds the points in view plus one neighbour each side', () => {
    const x = [0, 10, 20, 30, 40, 50];
    expect(viewRange(x, 6, 15, 35)).toEqual([1, 5]);
    expect(viewRange(x, 6, 20, 30)).toEqual([1, 5]);
    expect(viewRange(x, 6, -100, 100)).toEqual([0, 6]);
    expect(viewRange(x, 6, 60, 70)).toEqual([5, 6]);
  });
});

describe('line data', () => {
  it('smooths before downsampling: the drawn smoothed points are the full-resolution curve’s own values', () => {
    const v = noisy(100_000);
    const t = table(v);
    const spec: LineSpec = { id: 'a', run: 'a', label: 'train', color: '#000', table: t, col: 'y' };
    const full = emaDebiased(v, v.length, 0.95, new Float64Array(v.length));
    for (const buckets of [50, 400]) {
      const { series, data } = lineData([spec], { x: 'step', smoothing: 0.95, log: false, range: null, buckets });
      expect(series.map((s) => s.kind)).toEqual(['raw', 'smooth']);
      expect(data[0].length).toBeLessThanOrEqual(6 * buckets); // first, last, and min and max of both curves
      data[0].forEach((x, k) => {
        const i = (x as number) / 10 - 1;
        expect(data[2][k]).toBe(full[i]);
        expect(data[1][k]).toBe(v[i]);
      });
    }
  });

  it('joins runs with different steps: undefined where a run has no point, null for gaps and for ≤ 0 on a log scale', () => {
    const a = table([1, 2, 0, 4], (i) => i * 10);
    const b = table([5, NaN, 7], (i) => i * 15);
    const specs: LineSpec[] = [
      { id: 'a', run: 'a', label: 'train', color: '#000', table: a, col: 'y' },
      { id: 'b', run: 'b', label: 'train', color: '#111', table: b, col: 'y' },
    ];
    const { data } = lineData(specs, { x: 'step', smoothing: 0, log: true, range: null, buckets: 100 });
    expect(data).toEqual([
      [0, 10, 15, 20, 30],
      [1, 2, undefined, null, 4],
      [5, undefined, null, undefined, 7],
    ]);
    expect(join([])).toEqual([[]]);
  });

  it('gives every drawn series its column, even for a column no row has yet (validation loss before the first evaluation)', () => {
    const empty = new Table();
    const specs: LineSpec[] = [
      { id: 'a', run: 'a', label: 'train', color: '#000', table: table([1, 2]), col: 'y' },
      { id: 'v', run: 'a', label: 'val', color: '#000', table: empty, col: 'valLoss' },
    ];
    const { series, data } = lineData(specs, { x: 'step', smoothing: 0.5, log: false, range: null, buckets: 10 });
    expect(series).toHaveLength(4);
    expect(data).toHaveLength(5);
  });

  it('downsamples only the zoomed range, at full detail there', () => {
    const t = table(noisy(10_000), (i) => i);
    const spec: LineSpec = { id: 'a', run: 'a', label: 'train', color: '#000', table: t, col: 'y' };
    const { data } = lineData([spec], { x: 'step', smoothing: 0, log: false, range: [1000, 1100], buckets: 400 });
    expect(data[0]).toEqual(Array.from({ length: 103 }, (_, i) => 999 + i));
  });

  it('reads the value nearest the cursor, and downloads every point', () => {
    const t = table([1, 2, 3, 4]);
    const spec: LineSpec = { id: 'a', run: 'r', label: 'train', color: '#000', table: t, col: 'y' };
    expect(pointNear(spec, 'step', 24, 0)).toEqual({ step: 20, wall: 0.5, value: 2, smooth: null });
    expect(pointNear(spec, 'step', 26, 0.5)?.step).toBe(30);
    expect(pointNear(spec, 'wall', 100, 0)?.step).toBe(40);
    const [e] = exportSeries([spec], 0.5);
    expect([e.n, e.run, e.series, e.value[3], e.smoothed?.[0]]).toEqual([4, 'r', 'train', 4, 1]);
  });
});
