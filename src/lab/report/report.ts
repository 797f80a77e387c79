// An experiment's report: what the paper found, the verdict of every claim with its criterion and
// the numbers it was decided on, what we ran, the results (tables and plots: mean ± sd over seeds),
// why ours may differ, and the command that reproduces it. A pure function of the results, so the
// same seeds give the same report; wall-clock numbers appear only in timing experiments, beside the
// machine and thread count they were measured with.

import { metricLabel, type Aggregate, type ArmSummary } from '../aggregate.ts';
import { armConfig, taskOf, type Experiment, type Figure, type LabTask } from '../experiment.ts';
import { fmtNum, type ConditionResult } from '../verdict.ts';
import { toHtml, toMarkdown, type Block } from './document.ts';
import { barChart, lineChart } from './svg.ts';

export interface ReportContext {
  seeds: number;
  /** The exact command that made it. */
  command: string;
  /** The commit it ran at (with '+' when the tree had changes). */
  commit: string;
  /** Timing experiments: where the times were measured. */
  machine?: { cpu: string; cores: number; threadsPerProcess: number; processes: number; backend: string; node: string; load?: [number, number] };
  /** Jobs that have no result (the report is partial). */
  missing?: string[];
}

export interface RenderedReport {
  markdown: string;
  html: string;
  /** SVG files the Markdown links to, by file name. */
  figures: { file: string; svg: string }[];
}

function pm(a: ArmSummary, metric: string, digits = 4): string {
  const v = a.values(metric);
  if (v.length === 0) return '—';
  // Counts the same in every run (parameters) read better whole.
  if (v.every((x) => x === v[0] && Number.isInteger(x))) return v[0].toLocaleString('en-US');
  return v.length > 1 ? `${fmtNum(a.mean(metric), digits)} ± ${fmtNum(a.sd(metric), 2)}` : fmtNum(v[0], digits);
}

/** The config fields an arm sets, as `field value` pairs. */
function describeConfig(c: Record<string, unknown>): string {
  const e = Object.entries(c);
  return e.length === 0 ? '(the base)' : e.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
}

function outcomeMark(o: ConditionResult['outcome']): string {
  return o === 'pass' ? 'pass' : o === 'fail' ? 'FAIL' : 'unclear';
}

function figureOf(agg: Aggregate, f: Figure, file: string): Block {
  const only = f.kind === 'sweep' ? undefined : f.arms;
  const arms = agg.arms.filter((a) => !only || only.includes(a.arm.id));
  switch (f.kind) {
    case 'curves': {
      const key = f.metric ?? 'valLoss';
      const svg = lineChart({
        title: f.title,
        xLabel: 'step',
        yLabel: key === 'valLoss' ? 'validation loss (nats)' : key === 'trainLoss' ? 'train loss (nats, eval mode)' : 'validation accuracy',
        series: arms.map((a) =>
          key === 'valAccuracy'
            ? { name: a.arm.label, points: a.accuracyCurve.map((p) => [p.step, p.mean] as [number, number]), band: a.accuracyCurve.map((p) => [p.step, p.lo, p.hi] as [number, number, number]) }
            : {
                name: a.arm.label,
                points: a.curve.map((p) => [p.step, key === 'valLoss' ? p.valLoss : p.trainLoss] as [number, number]),
                band: key === 'valLoss' ? a.curve.map((p) => [p.step, p.lo, p.hi] as [number, number, number]) : undefined,
              },
        ),
      });
      return { kind: 'figure', file, svg, caption: `${f.title}: mean over seeds, the band from the lowest to the highest run.` };
    }
    case 'series': {
      const names = arms.map((a) => a.labels(f.series)).find((l) => l !== null) ?? undefined;
      const svg = lineChart({
        title: f.title,
        xLabel: f.xLabel,
        yLabel: f.yLabel,
        logY: f.logY,
        xNames: names,
        series: arms.map((a) => ({ name: a.arm.label, points: a.series(f.series).map((y, i) => [i, y] as [number, number]) })),
      });
      return { kind: 'figure', file, svg, caption: `${f.title}: mean over seeds.` };
    }
    case 'bars': {
      const svg = barChart({ title: f.title, yLabel: f.yLabel, bars: arms.map((a) => ({ name: a.arm.label, mean: a.mean(f.metric), sd: a.sd(f.metric) })) });
      return { kind: 'figure', file, svg, caption: `${f.title}: mean ± sd over seeds.` };
    }
    case 'sweep': {
      const byId = new Map(agg.arms.map((a) => [a.arm.id, a]));
      const tx = (x: number) => (f.logX ? Math.log10(x) : x);
      const svg = lineChart({
        title: f.title,
        xLabel: f.logX ? `${f.xLabel} (log10)` : f.xLabel,
        yLabel: f.yLabel,
        series: f.groups.map((g) => ({
          name: g.label,
          points: g.arms.flatMap((id, i) => {
            const a = byId.get(id);
            return a && a.values(f.metric).length > 0 ? [[tx(f.x[i]), a.mean(f.metric)] as [number, number]] : [];
          }),
        })),
      });
      return { kind: 'figure', file, svg, caption: `${f.title}: mean over seeds.` };
    }
    default: {
      const never: never = f;
      throw new Error(`unknown figure ${JSON.stringify(never)}`);
    }
  }
}

/** What the report says of each task's data, its failure threshold and its diverged runs. */
const TASK_TEXT: Record<LabTask, { data: string; unigram: string; diverged: string }> = {
  lm: {
    data: "`resnorm train`'s defaults. Data: the bundled Moby-Dick corpus, character-level.",
    unigram: 'the unigram loss (the cross-entropy of character frequencies, what a model that learned no context scores)',
    diverged: 'a diverged run counts as ln V (guessing uniformly) in the mean loss',
  },
  image: {
    data: "the defaults of `resnorm train`'s schedule and of the residual MLP. Data: Fashion-MNIST (Debian's dataset-fashion-mnist; 28×28 greyscale, 10 classes): training split 90% of the 60,000 training images, validation the other 10% (by a hash of each image), test the official 10,000; pixels scaled to [0, 1].",
    unigram: 'the class-prior loss (the cross-entropy of the training split\'s class frequencies, what a model blind to the pixels scores)',
    diverged: 'a diverged run counts as ln K (guessing uniformly among the K classes) in the mean loss and 1/K in the accuracies',
  },
};

/** The verdicts in one line: "2 reproduced, 1 inconclusive". */
export function verdictLine(agg: Aggregate): string {
  const counts = new Map<string, number>();
  for (const c of agg.claims) counts.set(c.result.verdict, (counts.get(c.result.verdict) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}

export function reportBlocks(agg: Aggregate, ctx: ReportContext, figureFile: (i: number) => string): Block[] {
  const exp: Experiment = agg.experiment;
  const plan = exp.plans[agg.mode];
  const blocks: Block[] = [];
  blocks.push({ kind: 'h', level: 1, text: exp.title });
  blocks.push({
    kind: 'p',
    text: `resnorm lab, **${agg.mode}** mode, ${ctx.seeds} seeds per arm, at commit \`${ctx.commit}\`. Reproduce with \`${ctx.command}\`.`,
  });
  if (ctx.missing && ctx.missing.length > 0) {
    blocks.push({ kind: 'p', text: `**Partial report**: ${ctx.missing.length} job(s) have no result yet (${ctx.missing.join(', ')}); run the command again to finish them.` });
  }

  blocks.push({ kind: 'h', level: 2, text: 'What the paper found' });
  blocks.push({ kind: 'p', text: `${exp.paper.citation}. ${exp.paper.found}` });

  blocks.push({ kind: 'h', level: 2, text: 'What we found: the verdicts' });
  blocks.push({ kind: 'table', head: ['claim', 'verdict'], rows: agg.claims.map((c) => [c.claim.text, `**${c.result.verdict}**`]) });
  for (const { claim, result } of agg.claims) {
    blocks.push({ kind: 'h', level: 3, text: `${claim.text} — **${result.verdict}**` });
    const items = result.conditions.map((c) => `${outcomeMark(c.outcome)} — criterion: ${c.criterion}. Observed: ${c.observed}.`);
    blocks.push({ kind: 'list', items });
    const note = claim.notes?.[result.verdict];
    if (note) blocks.push({ kind: 'p', text: note });
  }
  blocks.push({
    kind: 'p',
    text: 'Each criterion was written in the experiment definition before the run. A claim is **reproduced** when every criterion passes, **not reproduced** when any fails (the data show the opposite), and **inconclusive** otherwise.',
  });

  blocks.push({ kind: 'h', level: 2, text: 'What we ran' });
  const base = plan.base;
  blocks.push({ kind: 'p', text: `Base config of every arm: ${describeConfig(base)}; the rest are ${TASK_TEXT[taskOf(exp)].data}` });
  blocks.push({
    kind: 'table',
    head: ['arm', 'its settings', 'measures', 'parameters'],
    rows: agg.arms.map((a) => [a.arm.label, describeConfig(a.arm.config), (a.arm.measures ?? []).join(', ') || '—', a.runs[0] ? a.runs[0].params.toLocaleString('en-US') : '—']),
  });
  if (exp.timing && ctx.machine) {
    const m = ctx.machine;
    blocks.push({
      kind: 'p',
      text: `**Timing experiment.** Times were measured on ${m.cpu} (${m.cores} cores), ${m.backend} backend, ${m.threadsPerProcess} thread(s) per process, ${m.processes} process(es) at once (timing jobs run alone), Node ${m.node}.${m.load ? ` The machine's 1-minute load average was ${m.load[0].toFixed(1)} when the run started and ${m.load[1].toFixed(1)} when it ended (${m.cores} cores): other programs were running.` : ''} Other programs on the machine add noise; the spread over seeds shows how much.`,
    });
  }

  blocks.push({ kind: 'h', level: 2, text: 'What we found: the numbers' });
  const trains = plan.arms.some((a) => a.train !== false);
  const cols = [
    ...(trains
      ? [
          { metric: 'finalValLoss', label: 'final val loss', digits: 4 },
          { metric: 'failed', label: 'failed', digits: 2 },
        ]
      : []),
    ...exp.columns.map((c) => ({ ...c, digits: c.digits ?? 4 })),
  ];
  blocks.push({
    kind: 'table',
    head: ['arm', ...cols.map((c) => c.label)],
    rows: agg.arms.map((a) => [
      a.arm.label,
      ...cols.map((c) => (c.metric === 'failed' ? (a.arm.train === false ? '—' : `${a.values('failed').filter((v) => v > 0).length}/${a.runs.length}`) : pm(a, c.metric, c.digits))),
    ]),
  });
  if (trains) blocks.push({
    kind: 'p',
    text: `Values are mean ± sample sd over seeds. A run failed when its loss became non-finite or its final validation loss ended above ${exp.failAbove === undefined || exp.failAbove === 'unigram' ? TASK_TEXT[taskOf(exp)].unigram : `${exp.failAbove} nats`}; ${TASK_TEXT[taskOf(exp)].diverged}.`,
  });
  exp.figures.forEach((f, i) => blocks.push(figureOf(agg, f, figureFile(i + 1))));

  blocks.push({ kind: 'h', level: 2, text: 'Why our numbers may differ from the paper' });
  blocks.push({ kind: 'p', text: exp.differences });

  blocks.push({ kind: 'h', level: 2, text: 'Reproduce' });
  blocks.push({ kind: 'code', text: ctx.command });
  blocks.push({ kind: 'p', text: `Every arm's config in full: ${agg.arms.map((a) => `${a.arm.id} = ${JSON.stringify(armConfig(plan, a.arm))}`).join('; ')}.` });
  return blocks;
}

/** Markdown (figures linked as `prefix` + fig-N.svg), the HTML page (figures inline) and the SVG files. */
export function renderReport(agg: Aggregate, ctx: ReportContext, prefix = ''): RenderedReport {
  const file = (i: number) => `fig-${i}.svg`;
  const blocks = reportBlocks(agg, ctx, file);
  const figures = blocks.flatMap((b) => (b.kind === 'figure' ? [{ file: b.file, svg: b.svg }] : []));
  return { markdown: toMarkdown(blocks, prefix), html: toHtml(blocks, agg.experiment.title), figures };
}

export { metricLabel };
