// Attention maps of the probe sequence, stored at evaluation steps: pick a run, a step, a layer and a
// head; row t is query t's weights over keys 0…t (causal, so the upper triangle is empty). The tokens
// label the rows and columns as text, with whitespace made visible.

import { el, select, setChildren, setOptions } from './dom.ts';
import { fmtNum, fmtStep, showToken } from './format.ts';
import { HeatCanvas } from './heatmap.ts';
import { diagKey, type RunData } from './run-data.ts';
import type { Drawable, Scheduler } from './scheduler.ts';
import type { AttentionMaps } from './records.ts';

const CELL_PX = 18;

export interface RunChoice {
  id: string;
  name: string;
  data: RunData;
}

export class AttentionView implements Drawable {
  readonly root: HTMLElement;
  private heat: HeatCanvas;
  private runSel: HTMLSelectElement;
  private stepSel: HTMLSelectElement;
  private layerSel: HTMLSelectElement;
  private headSel: HTMLSelectElement;
  private cols = el('div', { class: 'attn-cols' });
  private rows = el('div', { class: 'attn-rows' });
  private info = el('div', { class: 'readout-head' });
  private empty = el('div', { class: 'empty' });
  private body: HTMLElement;
  private drawn = '';
  private followLatest = true;
  private shown: { rec: AttentionMaps; heads: number[][] } | null = null;

  constructor(
    private readonly runs: () => RunChoice[],
    private readonly scheduler: Scheduler,
  ) {
    const redraw = () => this.scheduler.request(this);
    this.runSel = select([], '', redraw, 'run');
    this.stepSel = select(
      [],
      '',
      () => {
        // A step picked by hand stays; until then the latest map is shown as new ones arrive.
        this.followLatest = this.stepSel.selectedIndex === 0;
        redraw();
      },
      'step',
    );
    this.layerSel = select([], '', redraw, 'layer');
    this.headSel = select([], '', redraw, 'head');
    for (const [s, k] of [
      [this.runSel, 'run'],
      [this.stepSel, 'step'],
      [this.layerSel, 'layer'],
      [this.headSel, 'head'],
    ] as const)
      s.setAttribute('data-control', k);
    this.heat = new HeatCanvas((cell) => this.hover(cell));
    this.body = el('div', { class: 'attn' }, el('div', { class: 'attn-corner' }), this.cols, this.rows, this.heat.canvas);
    this.root = el(
      'section',
      { class: 'card attention', attrs: { 'data-chart': 'attention-map' } },
      el('header', {}, el('h3', { text: 'Attention map' }), el('div', { class: 'tools' }, this.runSel, this.stepSel, this.layerSel, this.headSel)),
      el('p', { class: 'note', text: 'The probe’s first sequence at an evaluation step: row = query token, column = key token, colour = attention weight, from 0 to 1 (each row sums to 1).' }),
      this.empty,
      this.body,
      this.heat.legend,
      this.info,
    );
    scheduler.watch(this);
  }

  draw(): void {
    const runs = this.runs().filter((r) => r.data.attention.length > 0);
    setOptions(
      this.runSel,
      runs.map((r) => [r.id, r.name]),
    );
    const run = runs.find((r) => r.id === this.runSel.value);
    const recs = run?.data.attention ?? [];
    // Newest first: the latest map is what one usually wants.
    const steps = [...recs].reverse().map((a): [string, string] => [String(a.step), `step ${fmtStep(a.step)}`]);
    setOptions(this.stepSel, steps, this.followLatest ? (steps[0]?.[0] ?? '') : this.stepSel.value);
    const rec = recs.find((a) => String(a.step) === this.stepSel.value);
    setOptions(
      this.layerSel,
      (rec?.maps ?? []).map((m) => m.name),
    );
    const map = rec?.maps.find((m) => m.name === this.layerSel.value);
    setOptions(
      this.headSel,
      (map?.heads ?? []).map((_, h) => [String(h), `head ${h}`]),
    );
    const head = map?.heads[Number(this.headSel.value)];
    const key = `${run?.id}|${run?.data.version}|${rec?.step}|${map?.name}|${this.headSel.value}`;
    if (key === this.drawn) return;
    this.drawn = key;
    if (!run || !rec || !head) {
      this.shown = null;
      this.empty.textContent = 'no attention maps yet (they are stored at evaluation steps)';
      this.empty.hidden = false;
      this.body.hidden = true;
      this.root.setAttribute('data-points', '0');
      return;
    }
    this.empty.hidden = true;
    this.body.hidden = false;
    const T = Math.min(rec.tokens.length, head.length);
    this.shown = { rec, heads: head };
    this.heat.draw({ rows: T, cols: T, value: (t, s) => (s <= t ? (head[t]?.[s] ?? NaN) : null) }, { min: 0, max: 1, log: false }, CELL_PX);
    this.heat.canvas.style.width = `${T * CELL_PX}px`;
    const label = (tok: string) => el('span', { text: showToken(tok), title: JSON.stringify(tok) });
    setChildren(this.cols, ...rec.tokens.slice(0, T).map(label));
    setChildren(this.rows, ...rec.tokens.slice(0, T).map(label));
    this.body.style.gridTemplateColumns = `auto ${T * CELL_PX}px`;
    this.cols.style.gridTemplateColumns = `repeat(${T}, ${CELL_PX}px)`;
    this.rows.style.gridTemplateRows = `repeat(${T}, ${CELL_PX}px)`;
    const d = run.data;
    const i = d.diag.indexAtOrBefore(rec.step);
    const ent = i >= 0 && d.diag.step[i] === rec.step ? d.diag.col(diagKey('attention', map!.name, `entropy.${this.headSel.value}`))?.[i] : undefined;
    this.info.textContent = ent !== undefined ? `entropy of this head on the probe at step ${fmtStep(rec.step)}: ${fmtNum(ent)} nats` : 'hover a cell for its weight';
    this.root.setAttribute('data-points', String((T * (T + 1)) / 2));
  }

  private hover(cell: { row: number; col: number } | null): void {
    const s = this.shown;
    if (!s || !cell || cell.col > cell.row) return;
    const tok = (i: number) => JSON.stringify(s.rec.tokens[i] ?? '');
    this.info.textContent = `query ${cell.row} ${tok(cell.row)} → key ${cell.col} ${tok(cell.col)}: ${fmtNum(s.heads[cell.row]?.[cell.col] ?? NaN)}`;
  }
}
