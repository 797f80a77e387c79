// The encoder text classifier and its task: padding changes nothing, mean pooling is the mean of the
// real positions, class-token pooling reads position 0, every design builds, the step replays
// captured = eager on wasm, and through the task loop it learns a text classification.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { TextClassifier, type TextClassifierConfig } from '../../src/models/text-classifier.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { TrainStep } from '../../src/train/step.ts';
import { TextClassifyTask } from '../../src/train/text-classify-task.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { backward, noGrad, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { DESIGN_SAMPLES } from '../helpers/designs.ts';
import { relError } from '../helpers/compare.ts';

const tiny = { vocabSize: 12, classes: 3, maxLen: 10, nLayer: 2, nHead: 2, nEmbd: 8 } as const;
const encode = (text: string) => [...text].map((ch) => ch.charCodeAt(0) - 96); // 'a' → 1 … 'k' → 11
const be = createRefBackend();

/** Texts of a–k; class 2 if it has a 'k', else 1 if it has a 'j', else 0. */
function texts(n: number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const text = Array.from({ length: 2 + rng.int(7) }, () => String.fromCharCode(97 + rng.int(11))).join('');
    return { id: `t${i}`, text, label: text.includes('k') ? 2 : text.includes('j') ? 1 : 0 };
  });
}

const logitsOf = (m: TextClassifier, ids: number[][], T: number) =>
  noGrad(() => stepScope(() => {
    const flat = new Int32Array(ids.length * T);
    const mask = new Float32Array(ids.length * T);
    ids.forEach((s, b) => {
      flat.set(s, b * T);
      mask.fill(1, b * T, b * T + s.length);
      for (let t = s.length; t < T; t++) flat[b * T + t] = 1 + ((b + t) % 11); // padding holds junk: the mask must hide it
    });
    return m.logits(tensor(flat, [ids.length, T], { backend: be }), tensor(mask, [ids.length, T], { backend: be })).toArraySync();
  }));

describe('text classifier', () => {
  it('ignores padding: a text scores the same alone and padded in a longer batch', () => {
    for (const pooling of ['mean', 'cls'] as const) {
      const m = TextClassifier.create({ ...tiny, pooling }, { backend: be, seed: 2 });
      const alone = logitsOf(m, [[3, 4, 5]], 3);
      const padded = logitsOf(m, [[3, 4, 5], [1, 2, 3, 4, 5, 6, 7]], 9).slice(0, 3);
      expect(relError(padded, alone), pooling).toBeLessThan(1e-5);
    }
  });

  it('builds in every sample design, with finite loss and gradients', () => {
    for (const d of [{}, ...DESIGN_SAMPLES]) {
      const m = TextClassifier.create({ ...tiny, ...(d as Partial<TextClassifierConfig>) }, { backend: be, seed: 3 });
      const task = new TextClassifyTask(m, { train: texts(8, 1), val: texts(4, 2) }, { encode });
      stepScope(() => {
        const batch = task.trainBatch(new Rng(1), 4).map((h) => tensor(h.data, h.shape, { backend: be }));
        const loss = task.loss(batch);
        m.store!.zeroGrad();
        backward(loss);
        expect(Number.isFinite(loss.item()), JSON.stringify(d)).toBe(true);
        expect(be.readSync!(m.store!.grad).every(Number.isFinite), JSON.stringify(d)).toBe(true);
      });
    }
  });

  it('refuses what it cannot classify: a label outside the classes, an empty text, cls pooling without a class token', () => {
    const m = TextClassifier.create(tiny, { backend: be });
    expect(() => new TextClassifyTask(m, { train: [{ id: 'line 3', text: 'abc', label: 3 }], val: texts(2, 1) }, { encode })).toThrow(/line 3: label 3 is outside the model's 3 classes/);
    expect(() => new TextClassifyTask(m, { train: [{ id: 'line 4', text: '', label: 0 }], val: texts(2, 1) }, { encode })).toThrow(/line 4: the text has no tokens/);
    const cls = TextClassifier.create({ ...tiny, pooling: 'cls' }, { backend: be });
    expect(() => new TextClassifyTask(cls, { train: texts(2, 1), val: texts(2, 1) }, { encode })).toThrow(/needs the class token's id/);
  });

  it('replays captured on wasm bit-identically to eager steps', async () => {
    const kernels = await loadWasmKernels();
    const run = async (capture: boolean) => {
      const backend = kernels.createBackend();
      const m = TextClassifier.create({ ...tiny, pooling: 'cls', vocabSize: 13 }, { backend, seed: 4 });
      const task = new TextClassifyTask(m, { train: texts(40, 1), val: texts(8, 2) }, { encode, clsId: 12 });
      const stepper = new TrainStep(m, new AdamW(m.store!), { loss: task.loss, capture });
      const rng = new Rng(5);
      const losses = [];
      for (let s = 0; s < 4; s++) losses.push((await stepper.runBatch(task.trainBatch(rng, 6), { gradClip: 1 })).loss);
      return { losses, params: Array.from(await backend.read(m.store!.data)), eager: stepper.eagerReason };
    };
    const eager = await run(false);
    const captured = await run(true);
    expect(captured.eager).toBeNull();
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
  });

  it('learns through the task loop: validation accuracy and macro F1 far above chance', async () => {
    const m = TextClassifier.create({ ...tiny, nEmbd: 16 }, { backend: be, seed: 5 });
    const task = new TextClassifyTask(m, { train: texts(600, 1), val: texts(200, 2) }, { encode });
    const config = parseTrainConfig({ batchSize: 16, maxIters: 250, warmupIters: 10, lr: 3e-3, minLr: 3e-4, evalInterval: 250, evalIters: 4, diagInterval: 0, seed: 1 });
    const before = await task.evaluate(16, 4, 1);
    await new Trainer(task, config).run(250);
    const after = await task.evaluate(16, 4, 1);
    expect(before.metrics!.accuracy).toBeLessThan(0.6);
    expect(after.metrics!.accuracy).toBeGreaterThan(0.9);
    expect(after.metrics!.macroF1).toBeGreaterThan(0.85);
  });
});
