// The dashboard page: the layout, the page-wide controls (x axis by step or wall time, EMA smoothing),
// the run picker, and every chart, fed by one source of events (live or a report's inlined copy).

import { AttentionView } from './attention-view.ts';
import { DepthModel } from './depth-model.ts';
import { el, select, setChildren, setOptions } from './dom.ts';
import { GradHeatmap } from './grad-heatmap.ts';
import { LineChart } from './line-chart.ts';
import { ConfigPanel, RunsPanel, SamplesPanel, SpikesPanel } from './panels.ts';
import { Scheduler, type Drawable } from './scheduler.ts';
import type { Status } from './source.ts';
import { diagSpecs, entropySpecs, lossSpecs, metricSpecs, selection, speedSpecs, taskMetricSpecs } from './specs.ts';
import { Store, type SourceEvent } from './store.ts';
import { TimeModel, type ViewState } from './time-model.ts';

const STATUS_TEXT: Record<Status, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  report: 'report',
};

/** A paragraph whose text is recomputed when drawn. */
class TextLine implements Drawable {
  readonly root: HTMLElement;
  constructor(
    private readonly text: () => string,
    scheduler: Scheduler,
    cls = 'note',
  ) {
    this.root = el('p', { class: cls });
    scheduler.watch(this);
  }
  draw(): void {
    const t = this.text();
    if (this.root.textContent !== t) this.root.textContent = t;
  }
}

interface PerRun {
  heatmap: GradHeatmap;
  depth: LineChart;
}

export class App {
  readonly store = new Store();
  private readonly selected = new Set<string>();
  /** Run ids seen: a run appearing for the first time is shown; one the user unticked stays unticked. */
  private readonly known = new Set<string>();
  private readonly view: ViewState = { x: 'step', smoothing: 0.6 };
  private readonly scheduler = new Scheduler();
  private readonly sel = selection(this.store, this.selected);
  private readonly timeCharts: LineChart[] = [];
  private readonly drawables: Drawable[] = [];
  private readonly perRun = new Map<string, PerRun>();
  private readonly heatmapBox = el('div', { class: 'grid per-run' });
  private readonly depthBox = el('div', { class: 'grid per-run' });
  private readonly status = el('span', { class: 'status', attrs: { 'data-status': 'connecting' } });

  constructor(
    root: HTMLElement,
    private readonly mode: 'live' | 'report',
    generated?: string,
  ) {
    document.title = mode === 'live' ? 'resnorm dashboard' : 'resnorm report';
    this.setStatus(mode === 'live' ? 'connecting' : 'report');
    const runs = new RunsPanel(this.store, this.selected, this.scheduler, () => this.selectionChanged());
    const chart = (id: string, title: string, specs: () => ReturnType<typeof lossSpecs>, o: { note?: string; log?: boolean; controls?: HTMLElement[]; empty?: string } = {}) => {
      const c = new LineChart(new TimeModel(specs, this.view, o.empty), { id, title, note: o.note, log: o.log, controls: o.controls }, this.scheduler);
      this.timeCharts.push(c);
      return c.root;
    };
    const noDiag = 'no diagnostics yet (they come every diagInterval steps; --diag-interval 0 turns them off)';

    let updateProp = 'updateRatio';
    let subProp = 'ratio';
    let normProp = 'inStd';
    let entropyLayer = '';
    const updateSel = this.chartSelect(
      [
        ['updateRatio', '‖Δθ‖/‖θ‖'],
        ['gradNorm', '‖g‖'],
        ['norm', '‖θ‖'],
      ],
      (v) => (updateProp = v),
      'layer statistic',
    );
    const subSel = this.chartSelect(
      [
        ['ratio', '‖F(x)‖/‖x‖'],
        ['rmsUpdate', 'RMS of F(x)'],
        ['rmsIn', 'RMS of x'],
      ],
      (v) => (subProp = v),
      'sub-layer statistic',
    );
    const normSel = this.chartSelect(
      [
        ['inStd', 'input std'],
        ['inMean', 'input mean'],
        ['outRms', 'output RMS'],
        ['gainMean', 'gain γ mean'],
        ['gainMin', 'gain γ min'],
        ['gainMax', 'gain γ max'],
      ],
      (v) => (normProp = v),
      'norm statistic',
    );
    const entropySel = this.chartSelect([['', 'every layer']], (v) => (entropyLayer = v), 'attention layer');
    const entropySpecsShown = () => {
      const names = [...new Set(this.sel.runs().flatMap((r) => r.data.names.attention))];
      setOptions(entropySel, [['', 'every layer'], ...names.map((n): [string, string] => [n, n])], entropyLayer);
      entropyLayer = entropySel.value;
      return entropySpecs(this.sel, entropyLayer);
    };

    const attention = new AttentionView(
      () => this.sel.runs().map((r) => ({ id: r.id, name: r.name, data: r.data })),
      this.scheduler,
    );
    const probe = new TextLine(() => {
      const p = this.sel.runs().find((r) => r.data.probe)?.data.probe;
      return p
        ? `Activation statistics come from a fixed probe batch: ${p.sequences} sequences of ${p.length} tokens from the ${p.source} (seed ${p.seed}), run in evaluation mode at each diagnostics step.`
        : 'Activation statistics come from a fixed probe batch run at each diagnostics step.';
    }, this.scheduler);
    const footer = new TextLine(() => {
      const n = this.store.runs.length;
      return this.mode === 'report'
        ? `resnorm report of ${n} run${n === 1 ? '' : 's'}${generated ? `, made ${generated}` : ''}. Self-contained: it loads nothing from the network.`
        : 'Served read-only from this machine; nothing is loaded from the network.';
    }, this.scheduler, 'footer');
    this.drawables.push(runs, probe, footer, attention);

    const xSel = select(
      [
        ['step', 'step'],
        ['wall', 'wall time'],
      ],
      this.view.x,
      (v) => {
        this.view.x = v === 'wall' ? 'wall' : 'step';
        for (const c of this.timeCharts) c.resetZoom();
      },
      'x axis',
    );
    xSel.setAttribute('data-control', 'x-axis');
    const smooth = el('input', { attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(this.view.smoothing), 'data-control': 'smoothing', 'aria-label': 'smoothing' } });
    const smoothValue = el('output', { text: String(this.view.smoothing) });
    smooth.addEventListener('input', () => {
      this.view.smoothing = Number(smooth.value);
      smoothValue.textContent = smooth.value;
      this.redrawAll();
    });

    const section = (title: string, ...children: (Node | string | null)[]) => el('section', { class: 'group' }, el('h2', { text: title }), ...children);
    setChildren(
      root,
      el(
        'header',
        { class: 'top' },
        el('h1', {}, 'resnorm ', el('small', { text: mode === 'live' ? 'dashboard' : 'report' })),
        this.status,
        el(
          'div',
          { class: 'controls' },
          el('label', { title: 'x axis of every chart over training' }, 'x axis ', xSel),
          el('label', { title: 'exponential moving average, debiased (as TensorBoard); the raw curve stays faint behind' }, 'smoothing ', smooth, smoothValue),
        ),
      ),
      el(
        'main',
        {},
        runs.root,
        section(
          'Training',
          el(
            'div',
            { class: 'grid' },
            chart('loss', 'Loss', () => lossSpecs(this.sel), { note: 'Train loss of each logged step (solid), validation loss at evaluations (dashed, dots); spikes in red.' }),
            chart('lr', 'Learning rate', () => metricSpecs(this.sel, 'lr', 'learning rate'), { note: 'The schedule: warmup, then cosine decay.' }),
            chart('grad-norm', 'Gradient norm', () => metricSpecs(this.sel, 'gradNorm', 'gradient norm'), { note: 'Global ‖g‖ before clipping; spikes in red.', log: true }),
            chart('speed', 'Training speed', () => speedSpecs(this.sel), { note: 'Tokens per second (language models) or examples per second (the other tasks), mean since the process started.' }),
            chart('task-metrics', 'Task metrics', () => taskMetricSpecs(this.sel), {
              note: 'The task’s measures on the validation split at each evaluation: accuracy and F1 (classify, image), exact match, error rates and BLEU (translate).',
              empty: 'no task metrics: a language model’s evaluation is its loss (above); the other tasks log theirs at each evaluation',
            }),
          ),
          this.panel(new SpikesPanel(this.store, this.selected, this.scheduler)),
        ),
        section(
          'Inside the model',
          probe.root,
          this.heatmapBox,
          this.depthBox,
          el(
            'div',
            { class: 'grid' },
            chart('layer-update', 'Update size by layer', () => diagSpecs(this.sel, 'layers', updateProp), {
              note: '‖Δθ‖/‖θ‖ of each layer’s parameters: how far a step moves the weights (around 1e-3 is typical).',
              log: true,
              controls: [updateSel],
              empty: noDiag,
            }),
            chart('sublayer-share', 'Sub-layer update share', () => diagSpecs(this.sel, 'sublayers', subProp), {
              note: '‖F(x)‖/‖x‖ of each residual branch x + F(x): how much attention or MLP changes the stream.',
              controls: [subSel],
              empty: noDiag,
            }),
            chart('norm-stats', 'Normalization layers', () => diagSpecs(this.sel, 'norms', normProp), {
              note: 'Each normalization layer (LayerNorm, RMSNorm, DyT, BatchNorm): its input’s mean and std, its output’s RMS, its gain γ. A model without norms has none to show.',
              controls: [normSel],
              empty: noDiag,
            }),
            chart('attention-entropy', 'Attention entropy', entropySpecsShown, {
              note: 'Entropy of each head’s attention on the probe, nats: high = spread out, low = focused.',
              controls: [entropySel],
              empty: noDiag,
            }),
            attention.root,
          ),
        ),
        section('Samples', this.panel(new SamplesPanel(this.store, this.selected, this.scheduler))),
        section('Config', this.panel(new ConfigPanel(this.store, this.selected, this.scheduler))),
      ),
      footer.root,
    );
  }

  private panel(d: Drawable): Element {
    this.drawables.push(d);
    return d.root;
  }

  private chartSelect(options: [string, string][], set: (v: string) => void, label: string): HTMLSelectElement {
    const s = select(
      options,
      options[0][0],
      (v) => {
        set(v);
        this.redrawAll();
      },
      label,
    );
    s.setAttribute('data-control', 'statistic');
    return s;
  }

  setStatus(s: Status): void {
    this.status.textContent = STATUS_TEXT[s];
    this.status.setAttribute('data-status', s);
  }

  apply(e: SourceEvent): void {
    this.store.apply(e);
    if (e.type === 'hello' || e.type === 'runs') {
      for (const r of this.store.runs) {
        if (!this.known.has(r.id)) {
          this.known.add(r.id);
          this.selected.add(r.id);
        }
      }
      for (const id of [...this.selected]) if (!this.store.info(id)) this.selected.delete(id);
      this.syncPerRun();
    }
    this.redrawAll();
  }

  private selectionChanged(): void {
    this.syncPerRun();
    this.redrawAll();
  }

  /** The per-run charts (heatmap, depth profile): one of each for every run shown. */
  private syncPerRun(): void {
    for (const [id, p] of this.perRun) {
      if (this.selected.has(id)) continue;
      this.scheduler.unwatch(p.heatmap);
      this.scheduler.unwatch(p.depth);
      this.perRun.delete(id);
    }
    for (const r of this.store.runs) {
      if (!this.selected.has(r.id) || this.perRun.has(r.id)) continue;
      const data = () => this.store.get(r.id);
      const name = () => this.store.info(r.id)?.name ?? r.id;
      const depth = new LineChart(
        new DepthModel(data, name),
        { id: 'residual-depth', title: `Residual stream RMS by depth · ${r.name}`, note: 'RMS of the stream entering the first block and leaving each block; one line per point in training, dark = early, yellow = latest.' },
        this.scheduler,
      );
      depth.root.setAttribute('data-run', r.name);
      this.perRun.set(r.id, { heatmap: new GradHeatmap(data, r.name, this.scheduler), depth });
    }
    const order = this.store.runs.filter((r) => this.perRun.has(r.id)).map((r) => this.perRun.get(r.id)!);
    setChildren(this.heatmapBox, ...order.map((p) => p.heatmap.root));
    setChildren(this.depthBox, ...order.map((p) => p.depth.root));
  }

  private redrawAll(): void {
    for (const c of this.timeCharts) c.invalidate();
    for (const d of this.drawables) this.scheduler.request(d);
    for (const p of this.perRun.values()) {
      this.scheduler.request(p.heatmap);
      p.depth.invalidate();
    }
  }
}
