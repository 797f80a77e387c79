// Whole training runs on the wasm backend: linear memory stays flat over steps (freed blocks are
// reused), the loss curve follows the ref backend's (dropout included: same counter-hash mask), and a
// run split over threads is bit-identical to the single-threaded one.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep } from '../../src/train/step.ts';
import { Rng } from '../../src/tensor/index.ts';
import { relError } from '../helpers/compare.ts';

const kernels = await loadWasmKernels();
// Big enough that every matmul passes the threading threshold (64³ multiply-adds).
const cfg: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 23, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0.1 };
const [B, T] = [4, 32];

async function train(backend: Backend, steps: number, after?: (step: number) => void): Promise<{ losses: number[]; params: Float32Array }> {
  const model = GPT.create(cfg, { backend, seed: 5 });
  const opt = new AdamW(model.store!);
  const rng = new Rng(9);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    const tg = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    losses.push((await optimizationStep(model, opt, ids, tg, B, T, { gradClip: 1 })).loss);
    after?.(s);
  }
  return { losses, params: (await backend.read(model.store!.data)) as Float32Array };
}

describe('training on wasm', () => {
  it('keeps linear memory and live buffers flat over 100 steps', async () => {
    const be = kernels.createBackend();
    const seen: { live: number; bytes: number; reserved: number; memory: number }[] = [];
    await train(be, 100, (s) => {
      if (s === 9 || s === 99) {
        const st = be.memoryStats();
        const info = be.info();
        seen.push({ live: st.liveBuffers, bytes: st.liveBytes, reserved: info.reservedBytes, memory: info.memoryBytes });
      }
    });
    expect(seen[1]).toEqual(seen[0]);
  });

  it('follows the ref backend over 10 steps, dropout included', async () => {
    const ref = await train(createRefBackend(), 10);
    // Outputs allocated 'uninit' start as NaN: a kernel that leaves part of one unwritten shows up here.
    const wasm = await train(Object.assign(kernels.createBackend(), { poisonUninit: true }), 10);
    expect(relError(wasm.losses, ref.losses)).toBeLessThanOrEqual(1e-4);
    expect(relError(wasm.params, ref.params)).toBeLessThanOrEqual(1e-4);
  });

  it('gives bit-identical runs on 1 and 3 threads', async () => {
    const one = await train(kernels.createBackend(), 5);
    const be = await kernels.createThreadedBackend({ threads: 3 });
    try {
      const three = await train(be, 5);
      expect(three.losses).toEqual(one.losses);
      expect(Buffer.from(three.params.buffer).equals(Buffer.from(one.params.buffer))).toBe(true);
    } finally {
      await be.dispose();
    }
  });
});
