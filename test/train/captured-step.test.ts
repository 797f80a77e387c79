// Captured training steps (TrainStep on the wasm backend): the replayed record gives bit-identical
// losses and weights to eager steps, on 1 and 3 threads; buffers allocated between replays never land
// on the program's blocks; a capture that sees dropout or a read-back yields no program and says why;
// bad ids are still caught in a replay; and disposing a program gives its memory back.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep, TrainStep } from '../../src/train/step.ts';
import { attention, full, outsideArenas, Rng, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import { add, relu } from '../../src/tensor/ops/elementwise.ts';
import { reshape } from '../../src/tensor/ops/layout.ts';
import { crossEntropy } from '../../src/tensor/ops/softmax.ts';

const kernels = await loadWasmKernels();
const cfg: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 23, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0 };
const [B, T] = [4, 32];

interface Run {
  losses: number[];
  params: Float32Array;
  stepper?: TrainStep;
}

async function train(backend: Backend, steps: number, how: 'eager' | 'captured', between?: () => void, c = cfg): Promise<Run> {
  const model = GPT.create(c, { backend, seed: 5 });
  const opt = new AdamW(model.store!);
  const stepper = how === 'captured' ? new TrainStep(model, opt) : undefined;
  const rng = new Rng(9);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
    const y = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
    const o = { gradClip: 1, lr: 1e-3 * (1 + s) };
    losses.push((await (stepper ? stepper.run(x, y, B, T, o) : optimizationStep(model, opt, x, y, B, T, o))).loss);
    between?.();
  }
  return { losses, params: (await backend.read(model.store!.data)) as Float32Array, stepper };
}

describe('captured training steps', () => {
  it('replay the record bit for bit: same losses and weights as eager steps, 1 and 3 threads', async () => {
    const eager = await train(kernels.createBackend(), 6, 'eager');
    const captured = await train(kernels.createBackend(), 6, 'captured');
    expect(captured.stepper!.eagerReason).toBeNull();
    expect(captured.stepper!.launches).toBeGreaterThan(50);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    const be = await kernels.createThreadedBackend({ threads: 3 });
    try {
      const three = await train(be, 6, 'captured');
      expect(three.losses).toEqual(eager.losses);
      expect(three.params).toEqual(eager.params);
    } finally {
      await be.dispose();
    }
  });

  it('keeps its blocks to itself: buffers made between replays are neither handed them nor overwritten', async () => {
    // One head of 64: attention's scratch outgrows the backend's initial 64 KiB during the capture.
    const c = { ...cfg, nHead: 1 };
    const eager = await train(kernels.createBackend(), 5, 'eager', undefined, c);
    const be = kernels.createBackend();
    // Between steps, make buffers of the step's own sizes, some kept alive across the next replays.
    const kept: { t: Tensor; fill: number }[] = [];
    const between = () => {
      // The step's activation sizes, and the backend's initial kernel scratch (64 KiB), which the
      // capture uses before it outgrows it.
      for (const n of [B * T * 64, B * T * 192, B * T * 256, B * T * 23, 64, B * T, 1 << 14, (1 << 14) - 16]) {
        const fill = kept.length + 0.5;
        kept.push({ t: outsideArenas(() => full([n], fill, { backend: be })), fill });
        stepScope(() => full([n], -1, { backend: be })); // and a temporary one, freed at once
      }
    };
    const captured = await train(be, 5, 'captured', between, c);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    for (const { t, fill } of kept) expect(Array.from(t.toArraySync()).every((v) => v === fill)).toBe(true);
  });

  it('keeps the kernel scratch it used, even when the scratch is outgrown and replaced between replays', async () => {
    const eager = await train(kernels.createBackend(), 4, 'eager');
    const be = kernels.createBackend();
    const scratchBytes = () => (be as unknown as { scratchBytes: number }).scratchBytes; // white-box: the block at stake
    const attend = (T: number) => stepScope(() => {
      const q = full([1, 1, T, 64], 0.5, { backend: be });
      attention(q, q, q, true);
    });
    attend(128); // a scratch big enough for the whole step exists before the capture
    const before = scratchBytes();
    const kept: { t: Tensor; fill: number }[] = [];
    let grown = false;
    const between = () => {
      if (grown) return;
      grown = true;
      attend(1024); // outgrows it: the old block goes back to the allocator unless the program pinned it
      expect(scratchBytes()).toBeGreaterThan(before);
      for (let i = 0; i < 4; i++) kept.push({ t: outsideArenas(() => full([before / 4], i + 0.25, { backend: be })), fill: i + 0.25 });
    };
    const captured = await train(be, 4, 'captured', between);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    for (const { t, fill } of kept) expect(Array.from(t.toArraySync()).every((v) => v === fill)).toBe(true);
  });

  it('stays eager where a replay could not repeat the step (dropout), and says why', async () => {
    const withDropout = { ...cfg, dropout: 0.1 };
    const eager = await train(kernels.createBackend(), 3, 'eager', undefined, withDropout);
    const run = await train(kernels.createBackend(), 3, 'captured', undefined, withDropout);
    expect(run.stepper!.eagerReason).toMatch(/dropout draws a fresh mask every step/);
    expect(run.losses).toEqual(eager.losses);
    expect(run.params).toEqual(eager.params);
    const ref = await train(createRefBackend(), 1, 'captured');
    expect(ref.stepper!.eagerReason).toMatch(/the ref backend cannot capture/);
  });

  it('replays every kind of launch (kernels, threaded jobs, metadata, copies, casts, checks) over new inputs', async () => {
    const be1 = kernels.createBackend();
    const be3 = await kernels.createThreadedBackend({ threads: 3 });
    try {
      for (const be of [be1, be3]) {
        const n = 40_000; // past the threading threshold
        const x = be.alloc('float32', n);
        const ids = be.alloc('int32', 7);
        const ops = () => {
          const y = be.alloc('float32', n, 'uninit');
          be.cast(x, y); // same-dtype copy
          be.unary('gelu', y, y);
          const f = be.alloc('float32', 7);
          be.cast(ids, f); // int32 → float32
          const t = be.alloc('float32', n);
          be.stridedCopy(y, 0, [1, 200], t, 0, [200, 1], [200, 200]); // a transpose (metadata in scratch)
          be.binary('add', t, [200, 200], f, [1, 1], t, [200, 200]);
          const s = be.alloc('float32', 200);
          be.reduce('sum', t, [200, 200], [0], s);
          be.fill(f, 0.5);
          be.write(f, [1, 2, 3, 4, 5, 6, 7]); // a constant written during the capture
          be.embeddingForward(t, ids, be.alloc('float32', 7 * 200), 7, 200); // a check kernel
          return [s, f];
        };
        const data = (k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));
        be.write(x, data(1));
        be.write(ids, [0, 1, 2, 3, 4, 5, 6]);
        be.beginCapture!();
        const [s, f] = ops();
        const { program } = be.endCapture!();
        for (const k of [2, 3]) {
          be.write(x, data(k));
          be.write(ids, [6, 5, 4, 3, 2, 1, 0]);
          program!.run();
          const want = ops(); // the same ops, eagerly, on the same inputs
          expect(be.readSync(s)).toEqual(be.readSync(want[0]));
          expect(be.readSync(f)).toEqual(be.readSync(want[1]));
        }
        be.write(ids, [0, 1, 2, 3, 4, 5, 200]);
        expect(() => program!.run()).toThrow('Embedding id 200 at position 6 is outside [0, 200)');
        program!.dispose();
      }
    } finally {
      await be3.dispose();
    }
  });

  it('refuses to make a program of a capture that read a value back', () => {
    const be = kernels.createBackend();
    const t = tensor([1, 2, 3], [3], { backend: be });
    be.beginCapture();
    be.fill(t.storage, 4);
    be.readSync(t.storage);
    const r = be.endCapture();
    expect(r.program).toBeNull();
    expect(r.reason).toMatch(/read back to JavaScript/);
    expect(() => be.endCapture()).toThrow(/no capture is open/);
  });

  it('still rejects an id outside the vocabulary in a replayed step, leaving the weights alone', async () => {
    const be = kernels.createBackend();
    const model = GPT.create(cfg, { backend: be, seed: 5 });
    const opt = new AdamW(model.store!);
    const stepper = new TrainStep(model, opt);
    const x = new Int32Array(B * T).fill(3);
    await stepper.run(x, x, B, T, { gradClip: 1 });
    await stepper.run(x, x, B, T, { gradClip: 1 });
    const before = be.readSync(model.store!.data);
    const bad = x.slice();
    bad[7] = cfg.vocabSize;
    await expect(stepper.run(bad, x, B, T, { gradClip: 1 })).rejects.toThrow(`Embedding id ${cfg.vocabSize} at position 7 is outside [0, 23)`);
    await expect(stepper.run(x, bad, B, T, { gradClip: 1 })).rejects.toThrow(`Cross-entropy target ${cfg.vocabSize} at row 7 is outside [0, 23)`);
    expect(be.readSync(model.store!.data)).toEqual(before);
    expect((await stepper.run(x, x, B, T, { gradClip: 1 })).loss).toBeGreaterThan(0); // the program still runs
  });

  it('gives its memory back when released, and recaptures for a new batch shape', async () => {
    const be = kernels.createBackend();
    const model = GPT.create(cfg, { backend: be, seed: 5 });
    const stepper = new TrainStep(model, new AdamW(model.store!));
    const x = new Int32Array(B * T).fill(1);
    const reserved: number[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      await stepper.run(x, x, B, T, { gradClip: 1 });
      await stepper.run(x, x, B, T, { gradClip: 1 });
      stepper.release();
      reserved.push(be.info().reservedBytes);
    }
    expect(reserved[2]).toBe(reserved[1]); // released blocks are reused by the next capture, not added to
    const live = be.memoryStats().liveBuffers;
    await stepper.run(x.subarray(0, 2 * T), x.subarray(0, 2 * T), 2, T, { gradClip: 1 });
    expect(stepper.launches).toBeGreaterThan(0);
    stepper.release();
    expect(be.memoryStats().liveBuffers).toBe(live);
  });
});

describe('captured training steps of any model', () => {
  // A residual MLP classifier on float inputs: x (B, 12) float32, labels (B) int32.
  class TinyNet extends Module {
    readonly fc1 = this.child('fc1', new Linear(12, 12));
    readonly fc2 = this.child('fc2', new Linear(12, 5));
    logits(x: Tensor): Tensor {
      return this.fc2.forward(add(x, relu(this.fc1.forward(x))));
    }
  }
  const B = 6;
  async function trainNet(backend: Backend, captured: boolean) {
    const net = new TinyNet().materialize(backend, new Rng(3));
    const opt = new AdamW(net.store!);
    const loss = ([x, y]: readonly Tensor[]) => crossEntropy(reshape(net.logits(x), [B, 1, 5]), reshape(y, [B, 1]));
    const stepper = new TrainStep(net, opt, { loss, capture: captured });
    const rng = new Rng(4);
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) {
      const x = Float32Array.from({ length: B * 12 }, () => rng.normal());
      const y = Int32Array.from({ length: B }, () => rng.int(5));
      losses.push((await stepper.runBatch([{ data: x, shape: [B, 12] }, { data: y, shape: [B] }], { gradClip: 1 })).loss);
    }
    return { losses, params: Array.from(await backend.read(net.store!.data)), stepper };
  }

  it('replays a float-input model with its own loss bit for bit, and asks for the loss of a model that is not the GPT', async () => {
    const eager = await trainNet(kernels.createBackend(), false);
    const captured = await trainNet(kernels.createBackend(), true);
    expect(captured.stepper.eagerReason).toBeNull();
    expect(captured.stepper.launches).toBeGreaterThan(10);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    const ref = await trainNet(createRefBackend(), false);
    expect(ref.losses[4]).toBeCloseTo(eager.losses[4], 4);
    const net = new TinyNet().materialize(createRefBackend(), new Rng(3));
    expect(() => new TrainStep(net, new AdamW(net.store!))).toThrow(/needs its loss function/);
  });
});
