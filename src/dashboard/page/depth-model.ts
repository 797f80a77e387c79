// The residual stream's RMS by depth, for one run: x is the position in the stack (the embedding's
// output entering the first block, then each block's output), one line per point in training, coloured
// from early (dark violet) to late (yellow). Pre-LN's stream grows with depth; post-LN's is renormalized
// at every block: the difference the articles describe, seen on the run itself.

import type uPlot from 'uplot';
import { viridisHex } from './colors.ts';
import type { ExportSeries } from './export.ts';
import { fmtNum, fmtStep } from './format.ts';
import type { DrawContext, PlotModel, ReadoutRow } from './line-chart.ts';
import { diagKey, type RunData } from './run-data.ts';

/** Lines drawn: evenly spaced diagnostics steps, the first and the latest included. */
const LINES = 6;

export class DepthModel implements PlotModel {
  private hidden = new Set<string>();

  constructor(
    private readonly run: () => RunData | undefined,
    private readonly runName: () => string,
  ) {}

  /** The stack's positions: [label, column]. */
  private positions(d: RunData): [string, string][] {
    const blocks = d.names.blocks;
    if (blocks.length === 0) return [];
    return [['embedding', diagKey('blocks', blocks[0], 'rmsIn')], ...blocks.map((b): [string, string] => [b, diagKey('blocks', b, 'rmsOut')])];
  }

  /** The diagnostics rows drawn. */
  private rows(d: RunData): number[] {
    const n = d.diag.n;
    if (n === 0) return [];
    const k = Math.min(LINES, n);
    const out = new Set<number>();
    for (let i = 0; i < k; i++) out.add(k === 1 ? n - 1 : Math.round((i * (n - 1)) / (k - 1)));
    return [...out];
  }

  private lines(): { id: string; row: number; step: number; color: string }[] {
    const d = this.run();
    if (!d) return [];
    const rows = this.rows(d);
    return rows.map((row, i) => ({ id: `step ${d.diag.step[row]}`, row, step: d.diag.step[row], color: viridisHex(rows.length === 1 ? 1 : i / (rows.length - 1)) }));
  }

  structure(): string {
    return this.lines()
      .filter((l) => !this.hidden.has(l.id))
      .map((l) => `${l.id}:${l.color}`)
      .join(',');
  }

  version(): string {
    const d = this.run();
    return d ? `${d.version}|${d.diag.n}` : '';
  }

  series(): uPlot.Series[] {
    return this.lines()
      .filter((l) => !this.hidden.has(l.id))
      .map((l) => ({ label: l.id, stroke: l.color, width: 1.75, points: { show: true, size: 5, fill: l.color } }));
  }

  data(c: DrawContext): uPlot.AlignedData {
    const d = this.run();
    if (!d) return [[]];
    const pos = this.positions(d);
    const cols = pos.map(([, col]) => d.diag.col(col));
    const keep = (v: number | undefined) => (v !== undefined && Number.isFinite(v) && !(c.log && v <= 0) ? v : null);
    return [
      pos.map((_, i) => i),
      ...this.lines()
        .filter((l) => !this.hidden.has(l.id))
        .map((l) => cols.map((col) => keep(col?.[l.row]))),
    ];
  }

  xSplits(): number[] {
    const d = this.run();
    return d ? this.positions(d).map((_, i) => i) : [];
  }

  xTick(v: number): string {
    const d = this.run();
    const p = d ? this.positions(d) : [];
    return Number.isInteger(v) && p[v] ? (v === 0 ? 'emb' : p[v][0]) : '';
  }

  readout(x: number | null): { head: string; rows: ReadoutRow[] } {
    const d = this.run();
    if (!d) return { head: '', rows: [] };
    const pos = this.positions(d);
    const at = x === null ? pos.length - 1 : Math.min(pos.length - 1, Math.max(0, Math.round(x)));
    const col = pos[at] ? d.diag.col(pos[at][1]) : null;
    return {
      head: pos[at] ? (at === 0 ? 'entering the first block' : `leaving ${pos[at][0]}`) : '',
      rows: this.lines().map((l) => ({ id: l.id, color: l.color, run: this.runName(), label: `step ${fmtStep(l.step)}`, value: col ? fmtNum(col[l.row]) : '—', hidden: this.hidden.has(l.id) })),
    };
  }

  exports(): ExportSeries[] {
    const d = this.run();
    if (!d) return [];
    return this.positions(d).map(([label, col]) => ({
      run: this.runName(),
      series: `residual RMS ${label === 'embedding' ? 'entering the first block' : `leaving ${label}`}`,
      n: d.diag.n,
      step: d.diag.step,
      wallTime: d.diag.wall,
      value: d.diag.col(col) ?? new Float64Array(d.diag.n).fill(NaN),
    }));
  }

  exportMeta(): Record<string, unknown> {
    return { run: this.runName() };
  }

  empty(): string | null {
    const d = this.run();
    return !d || d.diag.n === 0 || d.names.blocks.length === 0 ? 'no diagnostics yet (they come every diagInterval steps)' : null;
  }

  toggle(id: string): void {
    if (!this.hidden.delete(id)) this.hidden.add(id);
  }
}
