// Loss and gradient-norm spikes, flagged at the step they happen. A spike is a value far above a
// running baseline: an exponential moving average (β = 0.95) with a moving mean absolute deviation,
// warmed up over the first steps of a process. The rule is written down in docs/run-directory.md.

import type { SpikeMetric, SpikeRecord } from './records.ts';

const BETA = 0.95;
const WARMUP = 20;
const DEVIATIONS = 6;
/** How far above the baseline a value must also be, as a factor: a loss 20% up, a gradient norm doubled. */
const MIN_FACTOR: Record<SpikeMetric, number> = { loss: 1.2, gradNorm: 2 };

class Baseline {
  private mean = 0;
  private dev = 0;
  private n = 0;
  constructor(readonly metric: SpikeMetric) {}

  /** Folds in `value`; returns the spike it is, judged against the baseline before it, or null. */
  observe(step: number, value: number): SpikeRecord | null {
    if (!Number.isFinite(value)) return null;
    let spike: SpikeRecord | null = null;
    if (this.n >= WARMUP) {
      const threshold = Math.max(this.mean + DEVIATIONS * this.dev, this.mean * MIN_FACTOR[this.metric]);
      if (value > threshold) spike = { kind: 'spike', step, metric: this.metric, value, baseline: this.mean, threshold };
    }
    // A spike does not drag the baseline up with it: it enters clamped to the threshold.
    const v = spike ? spike.threshold : value;
    if (this.n === 0) this.mean = v;
    this.dev = BETA * this.dev + (1 - BETA) * Math.abs(v - this.mean);
    this.mean = BETA * this.mean + (1 - BETA) * v;
    this.n++;
    return spike;
  }
}

export class SpikeDetector {
  private readonly loss = new Baseline('loss');
  private readonly gradNorm = new Baseline('gradNorm');

  /** The spikes of one step (zero, one or two). */
  observe(step: number, loss: number, gradNorm: number): SpikeRecord[] {
    return [this.loss.observe(step, loss), this.gradNorm.observe(step, gradNorm)].filter((s): s is SpikeRecord => s !== null);
  }
}
