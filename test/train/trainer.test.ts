// The training loop: it learns (loss falls on a repetitive text), a non-finite loss stops it with the
// step number before any update is applied, and a task that is not the language model trains the same way.

import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { GPT } from '../../src/models/gpt.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { NonFiniteLossError, Trainer } from '../../src/train/trainer.ts';
import type { TaskModel, TrainTask } from '../../src/train/task.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import { noGrad, readAfterScope, Rng, tensor, type Tensor } from '../../src/tensor/index.ts';
import { add, relu } from '../../src/tensor/ops/elementwise.ts';
import { reshape } from '../../src/tensor/ops/layout.ts';
import { crossEntropy } from '../../src/tensor/ops/softmax.ts';

const text = 'abcdefgh'.repeat(200);
const tok = CharTokenizer.fromText(text);
const data = splitTrainVal(Int32Array.from(tok.encode(text)));
const config = parseTrainConfig({ blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, batchSize: 8, maxIters: 60, warmupIters: 5, lr: 1e-2, minLr: 1e-3, evalIters: 2, seed: 1 });

describe('Trainer', () => {
  it('drives the loss of a periodic text far below chance', async () => {
    const t = new Trainer(GPT.create(modelConfigOf(config, tok.vocabSize)), config, data);
    const first = (await t.evaluate()).valLoss;
    await t.run(60);
    expect(first).toBeGreaterThan(1.8); // ln 8 ≈ 2.08 at initialisation
    expect(t.lastValLoss!).toBeLessThan(0.3);
  });

  it('stops on a non-finite loss, naming the step, before updating the weights', async () => {
    const model = GPT.create(modelConfigOf(config, tok.vocabSize));
    const t = new Trainer(model, config, data);
    await t.run(3);
    const w = model.store!.tensorOf('wte.weight');
    model.backend.fill(w.storage, Number.NaN);
    await expect(t.trainStep()).rejects.toThrow(NonFiniteLossError);
    await expect(t.trainStep()).rejects.toThrow(/loss became NaN at step 3/);
    expect(t.step).toBe(3);
  });
});

describe('Trainer on any task', () => {
  // A task that is not the language model: classify 6-dimensional points by the sign pattern of two
  // of their coordinates (4 classes), with a residual MLP — float inputs, int32 labels, its own loss.
  class PointNet extends Module implements TaskModel {
    readonly fc1 = this.child('fc1', new Linear(6, 32));
    readonly fc2 = this.child('fc2', new Linear(32, 6));
    readonly head = this.child('head', new Linear(6, 4));
    readonly dropoutRng = new Rng(0);
    get backend() {
      return this.store!.backend;
    }
    logits(x: Tensor): Tensor {
      return this.head.forward(add(x, this.fc2.forward(relu(this.fc1.forward(x)))));
    }
  }
  const points = (rng: Rng, n: number) => {
    const x = Float32Array.from({ length: n * 6 }, () => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => (x[i * 6] > 0 ? 1 : 0) + (x[i * 6 + 1] > 0 ? 2 : 0));
    return { x, y };
  };
  const task = (model: PointNet): TrainTask<PointNet> => {
    const loss = ([x, y]: readonly Tensor[]) => crossEntropy(reshape(model.logits(x), [y.shape[0], 1, 4]), reshape(y, [y.shape[0], 1]));
    const batchLoss = async (seed: number, B: number) => {
      const { x, y } = points(new Rng(seed), B);
      return (await readAfterScope(() => noGrad(() => loss([tensor(x, [B, 6], { backend: model.backend }), tensor(y, [B], { backend: model.backend })]))))[0];
    };
    return {
      model,
      loss,
      trainBatch: (rng, B) => {
        const { x, y } = points(rng, B);
        return [{ data: x, shape: [B, 6] }, { data: y, shape: [B] }];
      },
      evaluate: async (B, iters, seed) => ({ trainLoss: await batchLoss(seed + 1, B * iters), valLoss: await batchLoss(seed + 2, B * iters) }),
    };
  };
  const cfg = parseTrainConfig({ batchSize: 32, maxIters: 150, warmupIters: 5, lr: 1e-2, minLr: 1e-3, evalInterval: 50, evalIters: 4, seed: 2 });

  it('trains a float-input classifier through the same loop, deterministically, with no probe and so no diagnostics', async () => {
    const run = async () => {
      const t = new Trainer(task(new PointNet().materialize(createRefBackend(), new Rng(5))), cfg);
      const first = (await t.evaluate()).valLoss;
      const evals: number[] = [];
      await t.run(150, { onEval: (e) => void evals.push(e.valLoss) });
      return { t, first, evals };
    };
    const a = await run();
    const b = await run();
    expect(a.t.diagnostics).toBeNull();
    expect(a.first).toBeGreaterThan(1.2); // ln 4 ≈ 1.39 at initialisation
    expect(a.evals.at(-1)!).toBeLessThan(0.5 * a.first);
    expect(a.evals).toEqual(b.evals);
  });
});
