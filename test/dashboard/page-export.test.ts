// Downloads (CSV and JSON of what a chart shows), heatmap pixels, colours and number formats of the page.
import { describe, expect, it } from 'vitest';
import { RUN_COLORS, shade, viridis } from '../../src/dashboard/page/colors.ts';
import { csvField, fileName, toCsv, toJson } from '../../src/dashboard/page/export.ts';
import { fmtDuration, fmtNum, showToken } from '../../src/dashboard/page/format.ts';
import { columnMax, columnStarts, gridExtent, heatmapPixels, scaleFraction } from '../../src/dashboard/page/heatmap-pixels.ts';

describe('downloads', () => {
  const series = [
    { run: 'pre-ln', series: 'train', n: 2, step: [10, 20], wallTime: [0.5, 1], value: [3.5, NaN], smoothed: [3.5, 3.5] },
    { run: 'a,"b"\nc', series: 'val', n: 1, step: [20], wallTime: [1.1], value: [3.25] },
  ];

  it('writes long-form CSV, quoting fields (RFC 4180) and leaving non-finite values empty', () => {
    expect(toCsv(series)).toBe(
      ['run,series,step,wall_time_s,value,smoothed', 'pre-ln,train,10,0.5,3.5,3.5', 'pre-ln,train,20,1,,3.5', '"a,""b""\nc",val,20,1.1,3.25,', ''].join('\n'),
    );
  });

  it('keeps a run name that looks like a formula from becoming one in a spreadsheet', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(['+1', '-1', '@x', '\tx'].map(csvField)).toEqual(["'+1", "'-1", "'@x", "'\tx"]);
    expect(csvField(-1)).toBe('-1');
  });

  it('writes JSON with nulls for non-finite values, and safe file names', () => {
    const j = JSON.parse(toJson('Loss', { x: 'step' }, series)) as { chart: string; x: string; series: { value: (number | null)[]; smoothed?: number[] }[] };
    expect([j.chart, j.x, j.series[0].value, j.series[0].smoothed, j.series[1].smoothed]).toEqual(['Loss', 'step', [3.5, null], [3.5, 3.5], undefined]);
    expect(fileName('Gradient norm / layer', 'csv')).toBe('resnorm-gradient-norm-layer.csv');
    expect(fileName('../..', 'json')).toBe('resnorm-data.json');
  });
});

describe('heatmap pixels', () => {
  const grid = { rows: 2, cols: 3, value: (r: number, c: number) => [[1, 10, 100], [NaN, null, 0.1]][r][c] };

  it('colours each cell by viridis on a log scale, grey for NaN, transparent for no cell', () => {
    const s = gridExtent(grid, true)!;
    expect(s).toEqual({ min: 0.1, max: 100, log: true });
    const px = heatmapPixels(grid, s);
    expect(px.length).toBe(2 * 3 * 4);
    expect([...px.subarray(8, 12)]).toEqual([...viridis(1), 255]);
    expect([...px.subarray(20, 24)]).toEqual([...viridis(0), 255]);
    expect([...px.subarray(12, 16)]).toEqual([200, 200, 200, 255]);
    expect([...px.subarray(16, 20)]).toEqual([0, 0, 0, 0]);
    expect(scaleFraction(10, s)).toBeCloseTo(2 / 3, 12);
    expect(scaleFraction(5, { min: 0, max: 10, log: false })).toBe(0.5);
    expect(gridExtent({ rows: 1, cols: 1, value: () => null }, false)).toBeNull();
  });

  it('fits many steps into few columns, each showing its largest value', () => {
    expect([...columnStarts(10, 4)]).toEqual([0, 2, 5, 7]);
    expect([...columnStarts(3, 100)]).toEqual([0, 1, 2]);
    const v = [1, 9, 2, NaN, NaN, 3, 4, 5, 6, 7];
    const st = columnStarts(10, 4);
    expect([0, 1, 2, 3].map((c) => columnMax(v, st, c, 10))).toEqual([9, 2, 4, 7]);
    expect(columnMax([NaN, NaN], columnStarts(2, 1), 0, 2)).toBeNaN();
  });
});

describe('colours and formats', () => {
  it('approximates matplotlib’s viridis within a few levels', () => {
    // matplotlib's table at 0, 0.25, 0.5, 0.75, 1: #440154 #3b528b #21918c #5ec962 #fde725
    const table = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    [0, 0.25, 0.5, 0.75, 1].forEach((t, i) => viridis(t).forEach((c, k) => expect(Math.abs(c - table[i][k])).toBeLessThanOrEqual(8)));
  });

  it('shades a run colour from light (shallow) to dark (deep)', () => {
    const lum = (h: string) => parseInt(h.slice(1, 3), 16) + parseInt(h.slice(3, 5), 16) + parseInt(h.slice(5, 7), 16);
    const shades = [0, 1, 2, 3].map((i) => shade(RUN_COLORS[0], i, 4));
    for (let i = 1; i < 4; i++) expect(lum(shades[i])).toBeLessThan(lum(shades[i - 1]));
    expect(shade(RUN_COLORS[0], 0, 1)).toBe(RUN_COLORS[0]);
  });

  it('writes numbers, durations and tokens readably', () => {
    expect([fmtNum(2.345678), fmtNum(0.0001), fmtNum(NaN), fmtNum(1234567), fmtNum(0)]).toEqual(['2.346', '1.00e-4', '—', '1.23e+6', '0']);
    expect([fmtDuration(42.123), fmtDuration(185), fmtDuration(7625)]).toEqual(['42.1 s', '3 min 05 s', '2 h 07 min']);
    expect(showToken('a b\n\t\u0001')).toBe('a␣b↵⇥\\x01');
  });
});
