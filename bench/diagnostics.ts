// What diagnostics cost (issue 11's goal: under 3% of the step time at the default interval). A
// diagnostics step is an ordinary (captured) step plus the per-parameter reductions around its update
// and the probe pass; at interval N its extra time is spread over N steps. Plain and diagnostics steps
// are timed alternately on one trainer, so drift on a noisy machine hits both alike.

import type { Backend } from '../src/backend/backend.ts';
import { GPT } from '../src/models/gpt.ts';
import { Rng } from '../src/tensor/index.ts';
import { modelConfigOf, parseTrainConfig } from '../src/train/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import type { Row } from './report.ts';
import type { StepCase } from './train-step.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function benchDiagnostics(backend: Backend, c: StepCase, reps: number, label: string): Promise<Row[]> {
  const { vocabSize, ...model } = c.config;
  const config = parseTrainConfig({ ...model, batchSize: c.batch, maxIters: 10 ** 6 });
  const defaultInterval = config.diagInterval;
  const rng = new Rng(0);
  const ids = (n: number) => Int32Array.from({ length: n }, () => rng.int(vocabSize));
  const trainer = new Trainer(GPT.create(modelConfigOf(config, vocabSize), { backend, seed: 0 }), config, { train: ids(100_000), val: ids(20_000) });
  const time = async (diagnose: boolean) => {
    const t0 = performance.now();
    await trainer.trainStep({ diagnose });
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) await time(i === 2); // capture, warm up, and the first probe's allocations
  const plain: number[] = [];
  const diag: number[] = [];
  for (let i = 0; i < reps; i++) {
    plain.push(await time(false));
    diag.push(await time(true));
  }
  trainer.dispose();
  const [p, d] = [median(plain), median(diag)];
  const share = (interval: number) => (100 * (d - p)) / (interval * p);
  const note = `diagnostics step ${d.toFixed(1)} ms vs plain step ${p.toFixed(1)} ms (medians of ${reps}, alternating); ${trainer.stepper.describe().split(' (')[0]}`;
  return [
    { section: 'train step', bench: `diagnostics overhead ${label}`, case: `${c.name}, every ${defaultInterval} steps (default)`, value: share(defaultInterval), unit: '% of step', lowerIsBetter: true, note: `goal < 3%; ${note}` },
    { section: 'train step', bench: `diagnostics overhead ${label}`, case: `${c.name}, every step`, value: share(1), unit: '% of step', lowerIsBetter: true, note },
  ];
}
