// The live loss chart: the dashboard's own line chart (uPlot, with its log toggle, zoom, readout and
// CSV/JSON downloads) over two tables, the train loss of every step and the validation loss of every
// evaluation, drawn as the dashboard draws a run's loss (validation dashed, with points).

import { runColor } from '../../dashboard/page/colors.ts';
import { LineChart } from '../../dashboard/page/line-chart.ts';
import type { LineSpec } from '../../dashboard/page/line-data.ts';
import type { Scheduler } from '../../dashboard/page/scheduler.ts';
import { Table } from '../../dashboard/page/table.ts';
import { TimeModel, type ViewState } from '../../dashboard/page/time-model.ts';

/**
 * Redraws at most this often while steps stream in. On 2 cores, drawing at every frame took CPU from the
 * engine's 2 threads (a thread pool waits for its slowest thread): the demo page's default-config step
 * took 65 ms against 50 in a bare worker; redrawing (and updating the progress line) twice a second,
 * 51–53 (bench/browser.ts).
 */
const REDRAW_MS = 500;

export class LossChart {
  private redrawAt = 0;
  private redrawTimer: ReturnType<typeof setTimeout> | null = null;
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
    this.redraw();
  }

  evaluation(step: number, wall: number, valLoss: number): void {
    this.evals.push(step, wall, [['valLoss', valLoss]]);
    this.redraw();
  }

  /** Now, or when REDRAW_MS have passed since the last redraw: the latest point is always drawn. */
  private redraw(): void {
    if (this.redrawTimer !== null) return;
    const wait = this.redrawAt + REDRAW_MS - performance.now();
    const go = () => {
      this.redrawTimer = null;
      this.redrawAt = performance.now();
      this.chart.invalidate();
    };
    if (wait <= 0) go();
    else this.redrawTimer = setTimeout(go, wait);
  }
}
