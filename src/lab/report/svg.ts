// Plots as standalone SVG text (no script, no CDN): line charts with an optional min–max band per
// line and a log y axis, and bar charts with ±sd whiskers. Used inline by report.html and as files
// beside report.md. Every string from data is escaped.

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const W = 720;
const H = 360;
/** The right margin holds the legend, outside the plot. */
const M = { left: 64, right: 176, top: 36, bottom: 48 };

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Ticks of a log10 axis spanning [lo, hi] (in log10 units): every decade, and 2 and 5 between when the span is under two decades. */
export function logTicks(lo: number, hi: number): number[] {
  const steps = hi - lo < 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) for (const m of steps) out.push(d + Math.log10(m));
  const inside = out.filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
  return inside.length >= 2 ? inside : [lo, hi];
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  /** [x, lo, hi] */
  band?: [number, number, number][];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  logY?: boolean;
  /** Names for integer x values (kernels, norm layers), shown instead of numbers. */
  xNames?: string[];
}

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    body,
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(14 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    '</svg>',
  ].join('\n');
}

export function lineChart(c: LineChart): string {
  const f = (y: number) => (c.logY ? Math.log10(y) : y);
  const usable = (y: number) => Number.isFinite(y) && (!c.logY || y > 0);
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.band ?? []).flatMap((b) => [b[1], b[2]])]).filter(usable).map(f);
  if (xs.length === 0 || ys.length === 0) return frame(c.title, c.xLabel, c.yLabel, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((f(y) - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const pyRaw = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const parts: string[] = [];
  // Axes and grid.
  const yTicks = c.logY ? logTicks(y0, y1) : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = pyRaw(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(c.logY ? fmtTick(10 ** t) : fmtTick(t))}</text>`);
  }
  const xTicks = c.xNames ? c.xNames.map((_, i) => i) : niceTicks(x0, x1, 6).filter((t) => t >= x0 && t <= x1);
  for (const t of xTicks) {
    const x = px(t).toFixed(1);
    const label = c.xNames ? c.xNames[t] : fmtTick(t);
    parts.push(`<line x1="${x}" x2="${x}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#333"/>`);
    parts.push(
      c.xNames && c.xNames.length > 8
        ? `<text transform="translate(${x} ${H - M.bottom + 8}) rotate(45)" font-size="9">${escapeXml(label)}</text>`
        : `<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  c.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const band = (s.band ?? []).filter((b) => usable(b[1]) && usable(b[2]));
    if (band.length > 1) {
      const up = band.map((b) => `${px(b[0]).toFixed(1)},${py(b[2]).toFixed(1)}`);
      const down = band.map((b) => `${px(b[0]).toFixed(1)},${py(b[1]).toFixed(1)}`).reverse();
      parts.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
    }
    const pts = s.points.filter((p) => usable(p[1]));
    if (pts.length > 1) parts.push(`<polyline points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    for (const p of pts) parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="2.2" fill="${color}"/>`);
  });
  // Legend, in the right margin, one row per series.
  c.series.forEach((s, i) => {
    const y = M.top + 4 + i * 14;
    parts.push(`<rect x="${W - M.right + 10}" y="${y - 5}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${W - M.right + 24}" y="${y}" dominant-baseline="middle">${escapeXml(s.name.length > 26 ? s.name.slice(0, 25) + '…' : s.name)}</text>`);
  });
  return frame(c.title, c.xLabel, c.yLabel, parts.join('\n'));
}

/** Bar charts have no legend: a narrow right margin. */
const BAR_RIGHT = 16;

export interface BarChart {
  title: string;
  yLabel: string;
  bars: { name: string; mean: number; sd: number }[];
}

export function barChart(c: BarChart): string {
  const bars = c.bars.filter((b) => Number.isFinite(b.mean));
  if (bars.length === 0) return frame(c.title, '', c.yLabel, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  const top = Math.max(...bars.map((b) => b.mean + b.sd), 0);
  const bottom = Math.min(...bars.map((b) => b.mean - b.sd), 0);
  const [y0, y1] = [bottom, top === bottom ? bottom + 1 : top + (top - bottom) * 0.05];
  const py = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const slot = (W - M.left - BAR_RIGHT) / bars.length;
  const parts: string[] = [];
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${M.left}" x2="${W - BAR_RIGHT}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${escapeXml(fmtTick(t))}</text>`);
  }
  bars.forEach((b, i) => {
    const x = M.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const [ya, yb] = [py(Math.max(b.mean, 0)), py(Math.min(b.mean, 0))];
    parts.push(`<rect x="${x.toFixed(1)}" y="${ya.toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(0.5, yb - ya).toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}" fill-opacity="0.8"/>`);
    const cx = (x + w / 2).toFixed(1);
    if (b.sd > 0) parts.push(`<line x1="${cx}" x2="${cx}" y1="${py(b.mean - b.sd).toFixed(1)}" y2="${py(b.mean + b.sd).toFixed(1)}" stroke="#000"/>`);
    parts.push(
      bars.length > 5
        ? `<text transform="translate(${cx} ${H - M.bottom + 8}) rotate(25)" font-size="9">${escapeXml(b.name)}</text>`
        : `<text x="${cx}" y="${H - M.bottom + 14}" text-anchor="middle">${escapeXml(b.name)}</text>`,
    );
  });
  parts.push(`<line x1="${M.left}" x2="${W - BAR_RIGHT}" y1="${py(0).toFixed(1)}" y2="${py(0).toFixed(1)}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  return frame(c.title, '', c.yLabel, parts.join('\n'));
}
