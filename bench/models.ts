// Training steps of the models besides the GPT (the other-models issue), each beside the same model
// and batch in PyTorch (bench/reference.py) at its best thread setting, measured in the same run.

import type { Backend } from '../src/backend/backend.ts';
import { ResidualMLP, type ResidualMLPConfig } from '../src/models/residual-mlp.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { ImageTask } from '../src/train/image-task.ts';
import { TrainStep } from '../src/train/step.ts';
import { Rng } from '../src/tensor/index.ts';
import type { ModelSetup, ModelStepCase } from './model-step.ts';
import { describeTorch, runTorchTimed, torchRefName, type TorchTimes } from './python-reference.ts';
import { timeMsAsync, type Row } from './report.ts';
import { RESNET_CASE } from './resnet.ts';
import { SEQ2SEQ_CASE } from './seq2seq.ts';
import { TEXT_CLASSIFIER_CASE } from './text-classifier.ts';

export { benchModelStep, torchModelStep } from './model-step.ts';

/** The task models beside the MLP, each one case (bench/seq2seq.ts, text-classifier.ts, resnet.ts). */
export const MODEL_CASES: readonly ModelStepCase[] = [SEQ2SEQ_CASE, TEXT_CLASSIFIER_CASE, RESNET_CASE];

export interface MlpCase {
  name: string;
  config: Partial<ResidualMLPConfig> & Pick<ResidualMLPConfig, 'inputs' | 'hidden' | 'classes' | 'depth'>;
  batch: number;
}

/** The articles' SimpleNet on MNIST-sized inputs: 784 → 256 → 10, one residual block, pre-LN; and a deep one. */
export const MLP_CASES: MlpCase[] = [
  { name: 'residual MLP 784-256-10, 1 block, B128', config: { inputs: 784, hidden: 256, classes: 10, depth: 1 }, batch: 128 },
  { name: 'residual MLP 784-256-10, 8 blocks, B128', config: { inputs: 784, hidden: 256, classes: 10, depth: 8 }, batch: 128 },
];

export function torchMlpStep(c: MlpCase, threadCounts: readonly number[], reps: number): TorchTimes | null {
  return runTorchTimed({ kind: 'mlp_train_step', config: c.config, batch: c.batch, reps, warmup: 3 }, threadCounts);
}

/** The MLP, its task's loss and one batch of random images (values do not change the work). */
export function mlpSetup(backend: Backend, c: MlpCase): ModelSetup {
  const model = ResidualMLP.create(c.config, { backend, seed: 0 });
  const rng = new Rng(0);
  const n = c.batch * 4;
  const inputs = Float32Array.from({ length: n * c.config.inputs }, () => rng.uniform());
  const labels = Int32Array.from({ length: n }, () => rng.int(c.config.classes));
  const set = { inputs, labels, size: c.config.inputs };
  const task = new ImageTask(model, { train: set, val: set });
  return { model, loss: task.loss, batch: task.trainBatch(rng, c.batch), config: c.config };
}

export async function benchMlpStep(backend: Backend, c: MlpCase, reps: number, torch: TorchTimes | null, label: string): Promise<Row> {
  const { model, loss, batch } = mlpSetup(backend, c);
  const stepper = new TrainStep(model, new AdamW(model.store!), { loss });
  const ms = await timeMsAsync(() => stepper.runBatch(batch, { gradClip: 1 }), reps, 3);
  stepper.release();
  model.store!.release();
  return {
    section: 'models', bench: `train step ${label}`, case: c.name, value: ms, unit: 'ms/step', lowerIsBetter: true,
    ...(torch ? { reference: { name: torchRefName(torch), value: torch.best.ms } } : {}), note: torch ? describeTorch(torch) : undefined,
  };
}
