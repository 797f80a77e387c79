// One line chart on a card: uPlot draws it; this adds what the issue asks of every chart: a log-scale
// toggle, drag to zoom (double-click to zoom out) with the zoomed range downsampled again at full
// detail, a readout with the value of every run at the cursor (the latest values when not hovering,
// a click on a row hides or shows that series), and CSV/JSON downloads of what is shown.

import uPlot from 'uplot';
import { download, el, setChildren } from './dom.ts';
import { fileName, toCsv, toJson, type ExportSeries } from './export.ts';
import { fmtTick } from './format.ts';
import type { Drawable, Scheduler } from './scheduler.ts';

export interface ReadoutRow {
  id: string;
  color: string;
  /** The run's name. */
  run: string;
  /** The series within the run ('train', 'h.0.attn'). */
  label: string;
  /** The value shown (smoothed, when smoothing is on). */
  value: string;
  /** The raw value, when smoothing is on. */
  raw?: string;
  /** The step of the point read (nearest the cursor). */
  step?: string;
  hidden: boolean;
}

export interface DrawContext {
  log: boolean;
  /** The zoomed x range, or null for all of it. */
  range: [number, number] | null;
  /** Plot width in CSS pixels: the downsampling's buckets. */
  buckets: number;
}

/** What a chart shows; line-chart.ts handles how. */
export interface PlotModel {
  /** When this changes, the chart is rebuilt (the series, their styles, the scales). */
  structure(c: DrawContext): string;
  /** When this (and the range and size) is unchanged, a redraw is skipped. */
  version(): string;
  series(c: DrawContext): uPlot.Series[];
  data(c: DrawContext): uPlot.AlignedData;
  xTick(v: number, span: number): string;
  /** Where the x ticks go, when not where uPlot would put them (the depth chart: one per block). */
  xSplits?(): number[];
  /** The readout at x (null: not hovering). */
  readout(x: number | null, c: DrawContext): { head: string; rows: ReadoutRow[] };
  /** What a download holds: every point of every shown series. */
  exports(): ExportSeries[];
  exportMeta(): Record<string, unknown>;
  /** Why there is nothing to draw, or null. */
  empty(): string | null;
  toggle(id: string): void;
}

export interface ChartOptions {
  /** data-chart attribute (tests, CSS). */
  id: string;
  title: string;
  note?: string;
  log?: boolean;
  height?: number;
  /** Extra controls in the header (selects). */
  controls?: HTMLElement[];
}

export class LineChart implements Drawable {
  readonly root: HTMLElement;
  private plotBox: HTMLElement;
  private readoutBox: HTMLElement;
  private emptyBox: HTMLElement;
  private u: uPlot | null = null;
  private builtStructure = '';
  private drawnKey = '';
  private log: boolean;
  private range: [number, number] | null = null;
  private hoverX: number | null = null;
  private readonly height: number;

  constructor(
    private readonly model: PlotModel,
    private readonly o: ChartOptions,
    private readonly scheduler: Scheduler,
  ) {
    this.log = o.log ?? false;
    this.height = o.height ?? 220;
    const logBox = el('input', { attrs: { type: 'checkbox', 'data-control': 'log' } });
    logBox.checked = this.log;
    logBox.addEventListener('change', () => {
      this.log = logBox.checked;
      this.invalidate();
    });
    const csv = el('button', { text: 'CSV', title: 'download every point shown, as CSV', attrs: { type: 'button', 'data-control': 'csv' } });
    const json = el('button', { text: 'JSON', title: 'download every point shown, as JSON', attrs: { type: 'button', 'data-control': 'json' } });
    csv.addEventListener('click', () => download(fileName(o.title, 'csv'), 'text/csv', toCsv(this.model.exports())));
    json.addEventListener('click', () => download(fileName(o.title, 'json'), 'application/json', toJson(o.title, this.model.exportMeta(), this.model.exports())));
    this.plotBox = el('div', { class: 'plot' });
    this.plotBox.style.minHeight = `${this.height}px`;
    this.emptyBox = el('div', { class: 'empty' });
    this.readoutBox = el('div', { class: 'readout' });
    this.root = el(
      'section',
      { class: 'card chart', attrs: { 'data-chart': o.id } },
      el(
        'header',
        {},
        el('h3', { text: o.title }),
        el('div', { class: 'tools' }, ...(o.controls ?? []), el('label', { title: 'logarithmic y axis' }, logBox, 'log'), csv, json),
      ),
      o.note ? el('p', { class: 'note', text: o.note }) : null,
      this.emptyBox,
      this.plotBox,
      this.readoutBox,
    );
    this.readoutBox.addEventListener('click', (e) => {
      const row = (e.target as Element).closest('[data-series]');
      if (!row) return;
      this.model.toggle(row.getAttribute('data-series')!);
      this.invalidate();
    });
    new ResizeObserver(() => this.invalidate()).observe(this.plotBox);
    scheduler.watch(this);
  }

  invalidate(): void {
    this.scheduler.request(this);
  }

  /** Zoomed out again (the x axis changed meaning: step ↔ wall time). */
  resetZoom(): void {
    this.range = null;
    this.invalidate();
  }

  private context(): DrawContext {
    return { log: this.log, range: this.range, buckets: Math.max(50, Math.round(this.plotBox.clientWidth || 600)) };
  }

  draw(): void {
    const c = this.context();
    const why = this.model.empty();
    this.emptyBox.textContent = why ?? '';
    this.emptyBox.hidden = why === null;
    if (why !== null) {
      this.u?.destroy();
      this.u = null;
      this.builtStructure = '';
      this.drawnKey = '';
      this.plotBox.hidden = true;
      this.root.setAttribute('data-points', '0');
      setChildren(this.readoutBox);
      return;
    }
    this.plotBox.hidden = false;
    const width = c.buckets;
    const structure = `${this.model.structure(c)}|${this.log}`;
    if (structure !== this.builtStructure || !this.u) this.build(c, structure, width);
    const key = `${this.model.version()}|${JSON.stringify(this.range)}|${width}`;
    if (key === this.drawnKey) return;
    this.drawnKey = key;
    const u = this.u!;
    if (u.width !== width) u.setSize({ width, height: this.height });
    const data = this.model.data(c);
    u.setData(data, true);
    if (this.range) u.setScale('x', { min: this.range[0], max: this.range[1] });
    // What was drawn, for anyone checking the page (the browser tests): points, series, scale, x extent.
    const xs = data[0];
    this.root.setAttribute('data-points', String(xs.length));
    this.root.setAttribute('data-series', String(data.length - 1));
    this.root.setAttribute('data-log', String(this.log));
    this.root.setAttribute('data-x-max', xs.length > 0 ? String(xs[xs.length - 1]) : '');
    this.root.toggleAttribute('data-zoomed', this.range !== null);
    this.showReadout();
  }

  private build(c: DrawContext, structure: string, width: number): void {
    this.u?.destroy();
    this.builtStructure = structure;
    this.drawnKey = '';
    const opts: uPlot.Options = {
      width,
      height: this.height,
      legend: { show: false },
      scales: { x: { time: false }, y: this.log ? { distr: 3, log: 10 } : { distr: 1 } },
      axes: [
        {
          ...(this.model.xSplits ? { splits: () => this.model.xSplits!() } : {}),
          values: (u, splits) => {
            const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
            return splits.map((v) => this.model.xTick(v, span));
          },
        },
        { size: 56, values: (_u, splits) => splits.map(fmtTick) },
      ],
      cursor: {
        drag: { x: true, y: false, setScale: false },
        bind: {
          dblclick: () => () => {
            this.range = null;
            this.invalidate();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const min = u.posToVal(u.select.left, 'x');
            const max = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (max > min) {
              this.range = [min, max];
              this.invalidate();
            }
          },
        ],
        setCursor: [
          (u) => {
            const left = u.cursor.left ?? -1;
            this.hoverX = left >= 0 ? u.posToVal(left, 'x') : null;
            this.showReadout();
          },
        ],
      },
      series: [{}, ...this.model.series(c)],
    };
    setChildren(this.plotBox);
    this.u = new uPlot(opts, [[]], this.plotBox);
  }

  private showReadout(): void {
    const { head, rows } = this.model.readout(this.hoverX, this.context());
    const raw = rows.some((r) => r.raw !== undefined);
    const step = rows.some((r) => r.step !== undefined);
    const th = (t: string) => el('th', { text: t });
    setChildren(
      this.readoutBox,
      rows.length === 0
        ? null
        : el(
            'table',
            {},
            el('thead', {}, el('tr', {}, th(head), th(''), th('value'), raw ? th('raw') : null, step ? th('step') : null)),
            el(
              'tbody',
              {},
              ...rows.map((r) => {
                const sw = el('span', { class: 'swatch' });
                sw.style.background = r.color;
                return el(
                  'tr',
                  { class: r.hidden ? 'hidden' : '', attrs: { 'data-series': r.id }, title: r.hidden ? 'click to show' : 'click to hide' },
                  el('td', { class: 'run' }, sw, r.run),
                  el('td', { class: 'label', text: r.label }),
                  el('td', { class: 'value', text: r.value }),
                  raw ? el('td', { class: 'value raw', text: r.raw ?? '' }) : null,
                  step ? el('td', { class: 'value', text: r.step ?? '' }) : null,
                );
              }),
            ),
          ),
    );
  }
}
