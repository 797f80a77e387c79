// The pixels of a heatmap (layer × step gradient norms, attention maps): one RGBA pixel per cell,
// coloured by viridis on a linear or log scale, written into an ImageData's buffer by hand. Pure, so
// Node tests check it; heatmap.ts puts it on a canvas.

import { viridis } from './colors.ts';

export interface Grid {
  rows: number;
  cols: number;
  /** A cell's value; NaN for a value that is not finite (drawn grey), null for no cell (transparent). */
  value(row: number, col: number): number | null;
}

export interface ColorScale {
  min: number;
  max: number;
  log: boolean;
}

/** The range of a grid's finite values (positive ones only, for a log scale); null when there are none. */
export function gridExtent(g: Grid, log: boolean): ColorScale | null {
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < g.rows; r++) {
    for (let c = 0; c < g.cols; c++) {
      const v = g.value(r, c);
      if (v === null || !Number.isFinite(v) || (log && v <= 0)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? { min, max, log } : null;
}

/** Where v falls in the scale, 0…1. */
export function scaleFraction(v: number, s: ColorScale): number {
  if (s.log) {
    if (v <= 0) return 0;
    const lo = Math.log(s.min);
    const hi = Math.log(s.max);
    return hi > lo ? (Math.log(v) - lo) / (hi - lo) : 0.5;
  }
  return s.max > s.min ? (v - s.min) / (s.max - s.min) : 0.5;
}

const GREY = [200, 200, 200, 255];

/** Viridis at 256 levels, computed once: the polynomial per cell was most of a big grid's time. */
let lut: Uint8ClampedArray | null = null;
function viridisLut(): Uint8ClampedArray {
  if (!lut) {
    lut = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) lut.set(viridis(i / 255), i * 3);
  }
  return lut;
}

/** RGBA bytes, row-major, rows × cols pixels. */
export function heatmapPixels(g: Grid, s: ColorScale): Uint8ClampedArray {
  const px = new Uint8ClampedArray(g.rows * g.cols * 4);
  const map = viridisLut();
  for (let r = 0; r < g.rows; r++) {
    for (let c = 0; c < g.cols; c++) {
      const v = g.value(r, c);
      const o = (r * g.cols + c) * 4;
      if (v === null) continue; // transparent
      if (!Number.isFinite(v)) {
        px.set(GREY, o);
        continue;
      }
      const k = Math.round(Math.min(1, Math.max(0, scaleFraction(v, s))) * 255) * 3;
      px[o] = map[k];
      px[o + 1] = map[k + 1];
      px[o + 2] = map[k + 2];
      px[o + 3] = 255;
    }
  }
  return px;
}

/**
 * Columns for a heatmap of n steps at most `max` wide: the first step index of each column. With more
 * steps than columns, a column covers several steps and shows their largest value (a spike stays visible).
 */
export function columnStarts(n: number, max: number): Int32Array {
  const cols = Math.min(n, Math.max(1, max));
  const starts = new Int32Array(cols);
  for (let c = 0; c < cols; c++) starts[c] = Math.floor((c * n) / cols);
  return starts;
}

/** The value of column c over steps [starts[c], starts[c+1]) of one row: their maximum; NaN if any is NaN and none finite. */
export function columnMax(values: ArrayLike<number>, starts: Int32Array, c: number, n: number): number {
  const end = c + 1 < starts.length ? starts[c + 1] : n;
  let best = NaN;
  for (let i = starts[c]; i < end; i++) if (Number.isFinite(values[i]) && !(values[i] <= best)) best = values[i];
  return best;
}
