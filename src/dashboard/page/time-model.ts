// A line chart over training time: series of every selected run against step or wall time, smoothed
// and downsampled by line-data.ts. The loss, learning-rate and gradient-norm charts are of this kind,
// and so are the diagnostics plotted over steps.

import type uPlot from 'uplot';
import { faint } from './colors.ts';
import { fmtDuration, fmtNum, fmtStep, fmtWallTick } from './format.ts';
import type { DrawContext, PlotModel, ReadoutRow } from './line-chart.ts';
import { drawnSeries, exportSeries, lineData, pointNear, type LineSpec, type XMode } from './line-data.ts';
import type { Table } from './table.ts';

/** The page-wide settings every time chart follows. */
export interface ViewState {
  x: XMode;
  /** EMA weight, 0 = off. */
  smoothing: number;
}

let nextUid = 1;
const uids = new WeakMap<Table, number>();
function uid(t: Table): number {
  let u = uids.get(t);
  if (u === undefined) uids.set(t, (u = nextUid++));
  return u;
}

export function stepTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(6)));
}

export class TimeModel implements PlotModel {
  private hidden = new Set<string>();

  constructor(
    private readonly specsOf: () => LineSpec[],
    private readonly view: ViewState,
    private readonly emptyText = 'no data yet',
  ) {}

  private shown(): LineSpec[] {
    return this.specsOf().filter((s) => !this.hidden.has(s.id));
  }

  structure(): string {
    return `${this.view.x}|${this.view.smoothing > 0}|${this.shown()
      .map((s) => `${s.id}:${s.color}`)
      .join(',')}`;
  }

  version(): string {
    return `${this.view.smoothing}|${this.shown()
      .map((s) => `${uid(s.table)}.${s.table.version}`)
      .join(',')}`;
  }

  series(): uPlot.Series[] {
    return drawnSeries(this.shown(), this.view).map(({ spec, kind }) => {
      switch (kind) {
        case 'marker':
          return { label: `${spec.run} ${spec.label}`, stroke: spec.color, fill: spec.color, paths: () => null, points: { show: true, size: 9, width: 2, stroke: spec.color, fill: '#fff' } };
        case 'raw': {
          const under = this.view.smoothing > 0 && !spec.noSmooth;
          return {
            label: `${spec.run} ${spec.label}${under ? ' (raw)' : ''}`,
            stroke: under ? faint(spec.color) : spec.color,
            width: under ? 1 : 1.5,
            dash: spec.dash,
            points: { show: spec.points === true && !under, size: 5, fill: spec.color },
          };
        }
        case 'smooth':
          return { label: `${spec.run} ${spec.label}`, stroke: spec.color, width: 1.75, dash: spec.dash, points: { show: spec.points === true, size: 5, fill: spec.color } };
        default: {
          const never: never = kind;
          throw new Error(`unknown series kind ${String(never)}`);
        }
      }
    });
  }

  data(c: DrawContext): uPlot.AlignedData {
    return lineData(this.shown(), { x: this.view.x, smoothing: this.view.smoothing, log: c.log, range: c.range, buckets: c.buckets }).data as uPlot.AlignedData;
  }

  xTick(v: number, span: number): string {
    return this.view.x === 'step' ? stepTick(v) : fmtWallTick(v, span);
  }

  readout(x: number | null): { head: string; rows: ReadoutRow[] } {
    const rows: ReadoutRow[] = [];
    const head = x === null ? 'latest' : this.view.x === 'step' ? `step ${fmtStep(x)}` : fmtDuration(x);
    for (const s of this.specsOf()) {
      if (s.marker) continue;
      const t = s.table;
      const p = x === null ? (t.n > 0 ? pointNear(s, 'step', t.step[t.n - 1], this.view.smoothing) : null) : pointNear(s, this.view.x, x, this.view.smoothing);
      const smoothing = this.view.smoothing > 0 && !s.noSmooth;
      rows.push({
        id: s.id,
        color: s.color,
        run: s.run,
        label: s.label,
        value: p ? fmtNum(p.smooth ?? p.value) : '—',
        ...(smoothing ? { raw: p ? fmtNum(p.value) : '—' } : {}),
        step: p ? fmtStep(p.step) : '',
        hidden: this.hidden.has(s.id),
      });
    }
    return { head, rows };
  }

  exports() {
    return exportSeries(
      this.shown().filter((s) => !s.marker),
      this.view.smoothing,
    );
  }

  exportMeta(): Record<string, unknown> {
    return { x: this.view.x, smoothing: this.view.smoothing };
  }

  empty(): string | null {
    return this.specsOf().every((s) => s.table.n === 0 || s.marker) ? this.emptyText : null;
  }

  toggle(id: string): void {
    if (!this.hidden.delete(id)) this.hidden.add(id);
  }
}
