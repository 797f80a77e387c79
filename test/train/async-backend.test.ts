// The engine on a backend that reads only asynchronously, as a GPU backend does (the asyncOnly view
// of the reference backend): it trains, evaluates, samples, checkpoints and resumes end to end, with
// the same results bit for bit as on the reference backend itself, and a kernel's validation error
// still stops the step that caused it, before the weights change.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { asyncOnly } from '../../src/backend/views.ts';
import { nodeRunFs } from '../../src/cli/node-run-fs.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { RunStore } from '../../src/io/run-store.ts';
import { generate } from '../../src/models/generate.ts';
import { GPT } from '../../src/models/gpt.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { evaluateText } from '../../src/train/evaluate.ts';
import { loadCheckpoint, modelOf, resumeTrainer, saveCheckpoint } from '../../src/train/run-checkpoints.ts';
import { Trainer } from '../../src/train/trainer.ts';

const text = 'the quick brown fox jumps over the lazy dog; '.repeat(30);
const tok = CharTokenizer.fromText(text);
const data = splitTrainVal(Int32Array.from(tok.encode(text)));
const config = parseTrainConfig({ blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1, batchSize: 4, maxIters: 20, warmupIters: 2, evalInterval: 5, evalIters: 2, seed: 3 });
const root = mkdtempSync(join(tmpdir(), 'resnorm-async-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const trainerOn = (backend: Backend) => new Trainer(GPT.create(modelConfigOf(config, tok.vocabSize), { seed: config.seed, backend }), config, data);
const weights = async (t: Trainer) => Buffer.from((await t.model.backend.read(t.model.store!.data)).buffer);

describe('an asynchronous-only backend', () => {
  it('has no synchronous read', () => {
    const be = asyncOnly(createRefBackend());
    expect(be.readSync).toBeUndefined();
    const t = trainerOn(be);
    expect(() => t.model.store!.tensorOf('wte.weight').toArraySync()).toThrow(/reads asynchronously; use await tensor.toArray\(\)/);
  });

  it('trains, evaluates, samples, checkpoints and resumes, as the reference backend does, bit for bit', async () => {
    const reference = trainerOn(createRefBackend());
    await reference.run(20);

    const first = trainerOn(asyncOnly(createRefBackend()));
    await first.run(20, { shouldStop: () => first.step >= 10 });
    const store = await RunStore.create(nodeRunFs, join(root, 'run'), 'gpt');
    await saveCheckpoint(store, first, tok, { valLoss: first.lastValLoss, keep: { last: 2, best: false } });

    const second = trainerOn(asyncOnly(createRefBackend()));
    resumeTrainer(second, await loadCheckpoint(store, 'latest', { forTraining: true }));
    expect(second.step).toBe(10);
    await second.run(20);
    expect((await weights(second)).equals(await weights(reference))).toBe(true);
    expect(second.lastValLoss).toBe(reference.lastValLoss);

    const sampled = await generate(second.model, tok.encode('the '), { maxNewTokens: 20, seed: 1 });
    expect(sampled).toEqual(await generate(reference.model, tok.encode('the '), { maxNewTokens: 20, seed: 1 }));
    const ckptModel = modelOf(await loadCheckpoint(store, 'latest', { forTraining: false }), asyncOnly(createRefBackend()));
    const e = await evaluateText(ckptModel, data.val, 4);
    expect(e.tokens).toBe(data.val.length - 1);
    expect(Number.isFinite(e.perplexity)).toBe(true);
  });

  it('reports a bad id at the step\'s read, before the weights change', async () => {
    const own = { train: data.train.slice(), val: data.val };
    const t = new Trainer(GPT.create(modelConfigOf(config, tok.vocabSize), { seed: config.seed, backend: asyncOnly(createRefBackend()) }), config, own);
    await t.run(2);
    const before = await weights(t);
    own.train.fill(tok.vocabSize + 3); // every batch now holds an id outside the vocabulary
    await expect(t.trainStep()).rejects.toThrow(`Embedding id ${tok.vocabSize + 3} at position 0 is outside [0, ${tok.vocabSize})`);
    expect((await weights(t)).equals(before)).toBe(true);
    expect(t.step).toBe(2);
  });
});
