// Which series each chart over steps shows, from the store and the run selection: one colour per run,
// shades of it per layer, spikes as markers on the loss and gradient-norm charts.

import { runColor, shade } from './colors.ts';
import type { LineSpec } from './line-data.ts';
import { diagKey, metricKey, type DiagGroup, type RunData } from './run-data.ts';
import type { Store } from './store.ts';
import { Table } from './table.ts';

export interface Selection {
  /** The runs shown, in the store's order. */
  runs(): { id: string; name: string; color: string; data: RunData }[];
}

export function selection(store: Store, selected: ReadonlySet<string>): Selection {
  return {
    runs: () =>
      store.runs.flatMap((r, i) => {
        const data = store.get(r.id);
        return selected.has(r.id) && data ? [{ id: r.id, name: r.name, color: runColor(i), data }] : [];
      }),
  };
}

const spikeTables = new WeakMap<RunData, { version: number; tables: Map<string, Table> }>();

/** A run's spikes of one metric as a table (step, the wall time of that step's metrics record, value). */
export function spikeTable(d: RunData, metric: string): Table {
  let c = spikeTables.get(d);
  if (!c || c.version !== d.version) spikeTables.set(d, (c = { version: d.version, tables: new Map() }));
  let t = c.tables.get(metric);
  if (!t) {
    t = new Table();
    for (const s of [...d.spikes].filter((s) => s.metric === metric).sort((a, b) => a.step - b.step)) {
      const i = d.train.indexAtOrBefore(s.step);
      t.push(s.step, i >= 0 ? d.train.wall[i] : NaN, [['value', s.value]]);
    }
    c.tables.set(metric, t);
  }
  return t;
}

export function lossSpecs(sel: Selection): LineSpec[] {
  return sel.runs().flatMap((r) => [
    { id: `${r.id}/train`, run: r.name, label: 'train', color: r.color, table: r.data.train, col: 'trainLoss' },
    { id: `${r.id}/val`, run: r.name, label: 'validation', color: r.color, dash: [6, 4], points: true, table: r.data.evals, col: 'valLoss' },
    { id: `${r.id}/spike`, run: r.name, label: 'loss spikes', color: '#d62728', marker: true, table: spikeTable(r.data, 'loss'), col: 'value' },
  ]);
}

export function metricSpecs(sel: Selection, col: 'lr' | 'gradNorm' | 'tokensPerSec' | 'examplesPerSec', label: string): LineSpec[] {
  return sel.runs().flatMap((r) => [
    { id: `${r.id}/${col}`, run: r.name, label, color: r.color, table: r.data.train, col, noSmooth: col === 'lr' },
    ...(col === 'gradNorm' ? [{ id: `${r.id}/spike`, run: r.name, label: 'gradient-norm spikes', color: '#d62728', marker: true, table: spikeTable(r.data, 'gradNorm'), col: 'value' }] : []),
  ]);
}

/** Throughput: tokens/s of language models, examples/s of the other tasks (a run has one or the other). */
export function speedSpecs(sel: Selection): LineSpec[] {
  return [...metricSpecs(sel, 'tokensPerSec', 'tokens/s'), ...metricSpecs(sel, 'examplesPerSec', 'examples/s')];
}

/** The tasks' own measures at evaluations (accuracy, BLEU, error rates): one line per metric, per run. */
export function taskMetricSpecs(sel: Selection): LineSpec[] {
  return sel.runs().flatMap((r) => {
    const names = r.data.metricNames;
    return names.map((name, i) => ({ id: `${r.id}/metric/${name}`, run: r.name, label: name, color: shade(r.color, i, names.length), points: true, noSmooth: true, table: r.data.evals, col: metricKey(name) }));
  });
}

/** One line per entry of a diagnostics group (per layer, sub-layer, norm), per run. */
export function diagSpecs(sel: Selection, group: DiagGroup, prop: string): LineSpec[] {
  return sel.runs().flatMap((r) => {
    const names = r.data.names[group];
    return names.map((name, i) => ({ id: `${r.id}/${name}`, run: r.name, label: name, color: shade(r.color, i, names.length), table: r.data.diag, col: diagKey(group, name, prop) }));
  });
}

/** Attention entropy: one line per head of each attention layer (or of one, `layer`), per run. */
export function entropySpecs(sel: Selection, layer: string): LineSpec[] {
  return sel.runs().flatMap((r) => {
    const lines: { name: string; h: number }[] = [];
    for (const name of r.data.names.attention) {
      if (layer !== '' && name !== layer) continue;
      for (let h = 0; h < (r.data.heads.get(name) ?? 0); h++) lines.push({ name, h });
    }
    return lines.map(({ name, h }, i) => ({
      id: `${r.id}/${name}/${h}`,
      run: r.name,
      label: `${name} head ${h}`,
      color: shade(r.color, i, lines.length),
      table: r.data.diag,
      col: diagKey('attention', name, `entropy.${h}`),
    }));
  });
}
