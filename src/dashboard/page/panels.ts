// The page's text panels: the run picker with each run's final metrics, the samples as they are
// produced, the spikes, and each run's config. Every value from a run file goes in as text.

import { runColor } from './colors.ts';
import { el, setChildren } from './dom.ts';
import { fmtDuration, fmtNum, fmtStep } from './format.ts';
import type { Drawable, Scheduler } from './scheduler.ts';
import type { Store } from './store.ts';

abstract class Panel implements Drawable {
  readonly root: HTMLElement;
  protected body = el('div', { class: 'panel-body' });
  private drawn = '';

  constructor(
    title: string,
    id: string,
    protected readonly store: Store,
    protected readonly selected: ReadonlySet<string>,
    scheduler: Scheduler,
    note?: string,
  ) {
    this.root = el('section', { class: `card panel ${id}`, attrs: { 'data-panel': id } }, el('header', {}, el('h3', { text: title })), note ? el('p', { class: 'note', text: note }) : null, this.body);
    scheduler.watch(this);
  }

  /** What the panel shows depends on: when unchanged, nothing is rebuilt. */
  protected key(): string {
    return `${this.store.runsVersion}|${[...this.selected].join(',')}|${this.store.runs.map((r) => this.store.get(r.id)?.version ?? 0).join(',')}`;
  }

  draw(): void {
    const k = this.key();
    if (k === this.drawn) return;
    this.drawn = k;
    this.render();
  }

  protected abstract render(): void;

  protected shownRuns() {
    return this.store.runs.map((r, i) => ({ info: r, color: runColor(i), data: this.store.get(r.id) })).filter((r) => this.selected.has(r.info.id));
  }
}

export class RunsPanel extends Panel {
  constructor(
    store: Store,
    selected: Set<string>,
    scheduler: Scheduler,
    private readonly onChange: () => void,
  ) {
    super('Runs', 'runs', store, selected, scheduler);
  }

  protected render(): void {
    const selected = this.selected as Set<string>;
    if (this.store.runs.length === 0) {
      setChildren(this.body, el('p', { class: 'empty', text: 'no runs yet: start one with resnorm train' }));
      return;
    }
    const head = el('tr', {}, ...['', 'run', 'state', 'step', 'train loss', 'val loss', 'best val', 'wall time'].map((h) => el('th', { text: h })));
    const rows = this.store.runs.map((r, i) => {
      const box = el('input', { attrs: { type: 'checkbox', 'data-run': r.id, 'aria-label': `show ${r.name}` } });
      box.checked = selected.has(r.id);
      box.addEventListener('change', () => {
        if (box.checked) selected.add(r.id);
        else selected.delete(r.id);
        this.onChange();
      });
      const sw = el('span', { class: 'swatch' });
      sw.style.background = runColor(i);
      const s = this.store.get(r.id)?.summary();
      return el(
        'tr',
        {},
        el('td', {}, el('label', {}, box, sw)),
        el('td', { class: 'run-name', title: r.path }, el('span', { text: r.name }), el('small', { text: r.path })),
        el('td', { text: r.training ? 'training' : 'stopped', class: r.training ? 'live' : '' }),
        el('td', { text: s ? fmtStep(s.step) : '—' }),
        el('td', { text: s ? fmtNum(s.trainLoss) : '—' }),
        el('td', { text: s ? fmtNum(s.valLoss) : '—' }),
        el('td', { text: s ? fmtNum(s.bestValLoss) : '—' }),
        el('td', { text: s ? fmtDuration(s.wallTime) : '—' }),
      );
    });
    setChildren(this.body, el('table', { class: 'runs' }, el('thead', {}, head), el('tbody', {}, ...rows)));
  }
}

/** At most this many samples per run are shown (the newest). */
const SAMPLES_SHOWN = 20;

export class SamplesPanel extends Panel {
  constructor(store: Store, selected: ReadonlySet<string>, scheduler: Scheduler) {
    super('Samples', 'samples', store, selected, scheduler, 'Text generated at each evaluation, run by run, newest first; the prompt in grey. Shown exactly as decoded, as text.');
  }

  /** Rebuilt when samples come, not on every metrics line (it would reset a reader's selection). */
  protected override key(): string {
    return `${this.store.runsVersion}|${[...this.selected].join(',')}|${this.store.runs.map((r) => `${this.store.get(r.id)?.samples.length}:${this.store.get(r.id)?.samples.at(-1)?.step}`).join(',')}`;
  }

  protected render(): void {
    const items = this.shownRuns().flatMap((r) =>
      (r.data?.samples ?? [])
        .slice(-SAMPLES_SHOWN)
        .map((s) => ({ r, s }))
        .reverse(),
    );
    if (items.length === 0) {
      setChildren(this.body, el('p', { class: 'empty', text: 'no samples yet (one at every evaluation)' }));
      return;
    }
    setChildren(
      this.body,
      ...items.map(({ r, s }) => {
        const sw = el('span', { class: 'swatch' });
        sw.style.background = r.color;
        return el(
          'article',
          { class: 'sample' },
          el('header', {}, sw, el('span', { text: r.info.name }), el('span', { text: ` · step ${fmtStep(s.step)} · ${fmtDuration(s.wallTime)}` })),
          el('pre', {}, el('span', { class: 'prompt', text: s.prompt }), el('span', { text: s.text })),
        );
      }),
    );
  }
}

export class SpikesPanel extends Panel {
  constructor(store: Store, selected: ReadonlySet<string>, scheduler: Scheduler) {
    super('Spikes', 'spikes', store, selected, scheduler, 'Steps whose loss or gradient norm jumped above its moving baseline (marked in red on the charts).');
  }

  protected override key(): string {
    return `${this.store.runsVersion}|${[...this.selected].join(',')}|${this.store.runs.map((r) => this.store.get(r.id)?.spikes.length).join(',')}`;
  }

  protected render(): void {
    const rows = this.shownRuns().flatMap((r) => (r.data?.spikes ?? []).map((s) => ({ r, s })));
    if (rows.length === 0) {
      setChildren(this.body, el('p', { class: 'empty', text: 'no spikes: training has been stable' }));
      return;
    }
    rows.sort((a, b) => a.s.step - b.s.step);
    setChildren(
      this.body,
      el(
        'table',
        {},
        el('thead', {}, el('tr', {}, ...['run', 'step', 'metric', 'value', 'baseline', 'threshold'].map((h) => el('th', { text: h })))),
        el(
          'tbody',
          {},
          ...rows.map(({ r, s }) =>
            el(
              'tr',
              {},
              el('td', { text: r.info.name }),
              el('td', { text: fmtStep(s.step) }),
              el('td', { text: s.metric === 'gradNorm' ? 'gradient norm' : s.metric }),
              el('td', { text: fmtNum(s.value) }),
              el('td', { text: fmtNum(s.baseline) }),
              el('td', { text: fmtNum(s.threshold) }),
            ),
          ),
        ),
      ),
    );
  }
}

/** A config as rows of dotted keys and values ('train.lr', '0.001'). */
export function flattenConfig(v: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flattenConfig(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)]);
  }
  return out;
}

export class ConfigPanel extends Panel {
  constructor(store: Store, selected: ReadonlySet<string>, scheduler: Scheduler) {
    super('Config', 'config', store, selected, scheduler, 'Each run’s config (its latest checkpoint’s config.json); values that differ between the runs shown are highlighted.');
  }

  protected override key(): string {
    return `${this.store.runsVersion}|${[...this.selected].join(',')}`;
  }

  protected render(): void {
    const runs = this.shownRuns().filter((r) => r.info.config !== null);
    if (runs.length === 0) {
      setChildren(this.body, el('p', { class: 'empty', text: 'no config yet (written with the first checkpoint)' }));
      return;
    }
    const flat = runs.map((r) => new Map(flattenConfig(r.info.config).filter(([k]) => k !== 'format' && k !== 'version')));
    const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))];
    setChildren(
      this.body,
      el(
        'table',
        { class: 'config' },
        el('thead', {}, el('tr', {}, el('th', { text: 'field' }), ...runs.map((r) => el('th', { text: r.info.name })))),
        el(
          'tbody',
          {},
          ...keys.map((k) => {
            const vals = flat.map((m) => m.get(k) ?? '—');
            return el('tr', { class: new Set(vals).size > 1 ? 'differs' : '' }, el('td', { text: k }), ...vals.map((v) => el('td', { text: v })));
          }),
        ),
      ),
    );
  }
}
