// The training loop: it learns (loss falls on a repetitive text), and a non-finite loss stops it
// with the step number before any update is applied.

import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { GPT } from '../../src/models/gpt.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { NonFiniteLossError, Trainer } from '../../src/train/trainer.ts';

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
