// Checkpoints: stopping after 20 steps and resuming for 20 more gives the same weights, bit for bit,
// as 40 steps straight; inconsistent or mismatched checkpoints are refused with a clear message.

import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { GPT } from '../../src/models/gpt.ts';
import { encodeCheckpoint, restoreTrainer } from '../../src/train/checkpoint.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import type { Backend } from '../../src/backend/backend.ts';

const text = 'the quick brown fox jumps over the lazy dog; '.repeat(40);
const tok = CharTokenizer.fromText(text);
const data = splitTrainVal(Int32Array.from(tok.encode(text)));
const config = parseTrainConfig({ blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0.1, batchSize: 4, maxIters: 40, warmupIters: 5, evalInterval: 15, evalIters: 2, seed: 7 });

function fresh(backend?: Backend, c = config): Trainer {
  return new Trainer(GPT.create(modelConfigOf(c, tok.vocabSize), { seed: c.seed, backend }), c, data);
}

const wasmKernels = await loadWasmKernels();

async function weights(t: Trainer): Promise<Buffer> {
  return Buffer.from((await t.model.backend.read(t.model.store!.data)).buffer);
}

describe('checkpoint and resume', () => {
  it('20 steps + resume 20 steps equals 40 steps, bit for bit', async () => {
    const straight = fresh();
    expect(await straight.run(40)).toBe('done');

    const first = fresh();
    expect(await first.run(40, { shouldStop: () => first.step >= 20 })).toBe('stopped');
    const files = await encodeCheckpoint(first, tok);

    const second = fresh();
    restoreTrainer(second, { model: files['model.safetensors'] as Uint8Array, optimizer: files['optimizer.safetensors'] as Uint8Array, state: files['state.json'] as string }, 'run');
    expect(second.step).toBe(20);
    await second.run(40);
    expect((await weights(second)).equals(await weights(straight))).toBe(true);
    expect(second.bestValLoss).toBe(straight.bestValLoss);
  });

  it('on wasm, with captured steps (no dropout): 20 + resume 20 equals 40, bit for bit', async () => {
    const c = parseTrainConfig({ ...config, dropout: 0 });
    const straight = fresh(wasmKernels.createBackend(), c);
    await straight.run(40);
    expect(straight.stepper.eagerReason).toBeNull();
    const first = fresh(wasmKernels.createBackend(), c);
    await first.run(40, { shouldStop: () => first.step >= 20 });
    const files = await encodeCheckpoint(first, tok);
    const second = fresh(wasmKernels.createBackend(), c);
    restoreTrainer(second, { model: files['model.safetensors'] as Uint8Array, optimizer: files['optimizer.safetensors'] as Uint8Array, state: files['state.json'] as string }, 'run');
    await second.run(40);
    expect((await weights(second)).equals(await weights(straight))).toBe(true);
  });

  it('refuses files from different steps and weights of another shape', async () => {
    const a = fresh();
    await a.run(3);
    const early = await encodeCheckpoint(a, tok);
    await a.run(4);
    const late = await encodeCheckpoint(a, tok);
    expect(() =>
      restoreTrainer(fresh(), { model: early['model.safetensors'] as Uint8Array, optimizer: late['optimizer.safetensors'] as Uint8Array, state: late['state.json'] as string }, 'run'),
    ).toThrow(/files disagree \(model step 3, optimizer step 4, state step 4\)/);

    const wide = parseTrainConfig({ ...config, nEmbd: 32 });
    const other = new Trainer(GPT.create(modelConfigOf(wide, tok.vocabSize)), wide, data);
    expect(() =>
      restoreTrainer(other, { model: late['model.safetensors'] as Uint8Array, optimizer: late['optimizer.safetensors'] as Uint8Array, state: late['state.json'] as string }, 'run'),
    ).toThrow(/parameters; it belongs to another model|has shape \[\d+(, \d+)?\] but the model expects/);

    const truncated = (late['model.safetensors'] as Uint8Array).subarray(0, 100);
    expect(() => restoreTrainer(fresh(), { model: truncated, optimizer: late['optimizer.safetensors'] as Uint8Array, state: late['state.json'] as string }, 'run')).toThrow(/run\/model.safetensors/);
  });
});
