// The gradient norm of every layer at every diagnostics step, for one run, as a heatmap: rows are the
// layers in model order (embedding at the top, head at the bottom), columns the steps. Vanishing
// gradients in the deep layers of a post-LN stack, or one layer that blows up, show as a band.

import { el, setChildren } from './dom.ts';
import { fmtNum, fmtStep } from './format.ts';
import { HeatCanvas } from './heatmap.ts';
import { columnMax, columnStarts, gridExtent, type Grid } from './heatmap-pixels.ts';
import { diagKey, type RunData } from './run-data.ts';
import type { Drawable, Scheduler } from './scheduler.ts';

const ROW_PX = 16;

export class GradHeatmap implements Drawable {
  readonly root: HTMLElement;
  private heat: HeatCanvas;
  private labels = el('div', { class: 'row-labels' });
  private axis = el('div', { class: 'x-labels' });
  private readout = el('div', { class: 'readout-head' });
  private drawn = '';
  private cells: { grid: Grid; starts: Int32Array; n: number; names: string[]; steps: Float64Array } | null = null;

  constructor(
    private readonly data: () => RunData | undefined,
    runName: string,
    private readonly scheduler: Scheduler,
  ) {
    this.heat = new HeatCanvas((cell) => this.hover(cell));
    this.root = el(
      'section',
      { class: 'card heatmap', attrs: { 'data-chart': 'grad-heatmap', 'data-run': runName } },
      el('header', {}, el('h3', { text: `Gradient norm by layer · ${runName}` })),
      el('p', { class: 'note', text: 'Rows: layers, embedding at the top. Columns: diagnostics steps (the largest of several when they outnumber the pixels). Log colour scale.' }),
      el('div', { class: 'heat-body' }, this.labels, el('div', { class: 'heat-main' }, this.heat.canvas, this.axis)),
      this.heat.legend,
      this.readout,
    );
    new ResizeObserver(() => this.scheduler.request(this)).observe(this.root);
    scheduler.watch(this);
  }

  draw(): void {
    const d = this.data();
    const width = Math.max(50, Math.floor(this.heat.canvas.parentElement?.clientWidth ?? 400));
    const key = d ? `${d.version}|${width}` : '';
    if (key === this.drawn) return;
    this.drawn = key;
    const names = d?.names.layers ?? [];
    const n = d?.diag.n ?? 0;
    if (!d || n === 0 || names.length === 0) {
      this.cells = null;
      this.readout.textContent = 'no diagnostics yet';
      this.root.setAttribute('data-points', '0');
      return;
    }
    const starts = columnStarts(n, width);
    const cols = names.map((name) => d.diag.col(diagKey('layers', name, 'gradNorm')));
    const values = new Float64Array(names.length * starts.length);
    for (let r = 0; r < names.length; r++) for (let c = 0; c < starts.length; c++) values[r * starts.length + c] = cols[r] ? columnMax(cols[r]!, starts, c, n) : NaN;
    const grid: Grid = { rows: names.length, cols: starts.length, value: (r, c) => values[r * starts.length + c] };
    const scale = gridExtent(grid, true) ?? { min: 1, max: 1, log: true };
    this.heat.draw(grid, scale, ROW_PX);
    this.cells = { grid, starts, n, names, steps: d.diag.step };
    setChildren(this.labels, ...names.map((name) => el('div', { text: name })));
    this.labels.style.gridAutoRows = `${ROW_PX}px`;
    setChildren(this.axis, el('span', { text: `step ${fmtStep(d.diag.step[0])}` }), el('span', { text: `step ${fmtStep(d.diag.step[n - 1])}` }));
    this.root.setAttribute('data-points', String(n * names.length));
    if (!this.readout.textContent || this.readout.textContent.startsWith('no ')) this.readout.textContent = 'hover a cell for its layer, step and value';
  }

  private hover(cell: { row: number; col: number } | null): void {
    const c = this.cells;
    if (!c || !cell) return;
    const from = c.starts[cell.col];
    const to = (cell.col + 1 < c.starts.length ? c.starts[cell.col + 1] : c.n) - 1;
    const steps = from === to ? `step ${fmtStep(c.steps[from])}` : `steps ${fmtStep(c.steps[from])}–${fmtStep(c.steps[to])} (largest)`;
    this.readout.textContent = `${c.names[cell.row]} · ${steps}: ‖g‖ = ${fmtNum(c.grid.value(cell.row, cell.col) ?? NaN)}`;
  }
}
