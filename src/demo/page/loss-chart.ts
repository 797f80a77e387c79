// The live loss chart: the dashboard's own line chart (uPlot, with its log toggle, zoom, readout and
// CSV/JSON downloads) over two tables, the train loss of every step and the validation loss of every
// evaluation, drawn as the dashboard draws a run's loss (validation dashed, with points).

import { runColor } from '../../dashboard/page/colors.ts';
import { LineChart } from '../../dashboard/page/line-chart.ts';
import type { LineSpec } from '../../dashboard/page/line-data.ts';
import type { Scheduler } from '../../dashboard/page/scheduler.ts';
import { Table } from '../../dashboard/page/table.ts';
import { TimeModel, type ViewState } from '../../dashboard/page/time-model.ts';

export class LossChart {
  private train = new Table();
  private evals = new Table();
  private run = 'this tab';
  readonly chart: LineChart;
  readonly view: ViewState = { x: 'step', smoothing: 0.6 };

  constructor(scheduler: Scheduler) {
    const specs = (): LineSpec[] => [
      { id: 'train', run: this.run, label: 'train', color: runColor(0), table: this.train, col: 'trainLoss' },
      { id: 'val', run: this.run, label: 'validation', color: runColor(0), dash: [6, 4], points: true, table: this.evals, col: 'valLoss' },
    ];
    this.chart = new LineChart(
      new TimeModel(specs, this.view, 'no losses yet: train a model, or load a run that has a metrics.jsonl'),
      { id: 'loss', title: 'Loss', note: 'Train loss of each step (solid), validation loss at evaluations (dashed, dots), in nats per character.' },
      scheduler,
    );
  }

  get root(): HTMLElement {
    return this.chart.root;
  }

  /** Starts over (a new training, a loaded run), naming whose losses these are in the readout. */
  reset(run: string): void {
    this.run = run;
    this.train = new Table();
    this.evals = new Table();
    this.chart.resetZoom();
  }

  step(step: number, wall: number, loss: number): void {
    this.train.push(step, wall, [['trainLoss', loss]]);
    this.chart.invalidate();
  }

  evaluation(step: number, wall: number, valLoss: number): void {
    this.evals.push(step, wall, [['valLoss', valLoss]]);
    this.chart.invalidate();
  }
}
