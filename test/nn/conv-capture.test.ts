// A captured wasm training step of a small conv net (conv–BN–ReLU–max pool, an identity and a projection
// residual block, global average pool, linear head, cross-entropy) replays bit for bit: the same losses,
// weights and BatchNorm running statistics as eager steps, on 1 thread and on 2 (where the convolution
// and pooling kernels split over the pool). TrainStep takes the net through its loss-function form.
// Also with every buffer above 2 GiB of wasm memory (where a pointer no longer fits a signed int32):
// captured steps, a larger evaluation batch between them, and the replays after it.
import { describe, expect, it } from 'vitest';
import type { Backend, Storage } from '../../src/backend/backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { crossEntropy } from '../../src/tensor/ops/softmax.ts';
import { concat, noGrad, readAfterScope, reshape, Rng, tensor } from '../../src/tensor/index.ts';
import { optimizationStepOn, TrainStep, type HostInput, type LossFn } from '../../src/train/step.ts';
import { TinyConvNet } from '../helpers/tiny-conv-net.ts';

const kernels = await loadWasmKernels();
// 18×18 images: 324 positions, two of the convolution kernel's tiles; B = 6 puts the stem and the first
// block's convolutions past the threading threshold.
const [B, S, classes] = [6, 18, 5];

interface Run {
  losses: number[];
  params: Float32Array;
  buffers: Float32Array;
  stepper?: TrainStep;
  /** The logits of the evaluation batch (with `evalBatch`), and its loss. */
  evalLogits?: Float32Array;
}

/** An evaluation forward of `n` images between the steps: [mean cross-entropy, …logits], read at once. */
async function evaluate(backend: Backend, net: TinyConvNet, n: number): Promise<Float32Array> {
  const rng = new Rng(5);
  const x = Float32Array.from({ length: n * 3 * S * S }, () => rng.normal());
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  net.eval();
  const out = await readAfterScope(() => noGrad(() => {
    const logits = net.forward(tensor(x, [n, 3, S, S], { backend }));
    return concat([reshape(crossEntropy(logits, tensor(y, [n], { backend })), [1]), reshape(logits, [logits.size])], 0);
  }));
  net.train();
  return out as Float32Array;
}

/** `steps` steps, then (with evalBatch) an evaluation forward of that many images and `after` more steps. */
async function train(backend: Backend, how: 'eager' | 'captured', steps = 5, evalBatch = 0, after = 0): Promise<Run> {
  const net = new TinyConvNet().materialize(backend, new Rng(7));
  const opt = new AdamW(net.store!, { lr: 3e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
  const loss: LossFn = ([x, y]) => crossEntropy(net.forward(x), y);
  const stepper = how === 'captured' ? new TrainStep(net, opt, { loss }) : undefined;
  const rng = new Rng(11);
  const losses: number[] = [];
  let evalLogits: Float32Array | undefined;
  for (let s = 0; s < steps + after; s++) {
    if (evalBatch > 0 && s === steps) evalLogits = await evaluate(backend, net, evalBatch);
    const batch: HostInput[] = [
      { data: Float32Array.from({ length: B * 3 * S * S }, () => rng.normal()), shape: [B, 3, S, S] },
      { data: Int32Array.from({ length: B }, () => rng.int(classes)), shape: [B] },
    ];
    const o = { gradClip: 1, lr: 3e-3 * (1 + s) };
    losses.push((await (stepper ? stepper.runBatch(batch, o) : optimizationStepOn(net, opt, loss, batch, o))).loss);
  }
  const read = async (s: Storage) => (await backend.read(s)) as Float32Array;
  return { losses, params: await read(net.store!.data), buffers: await read(net.store!.buffers!), stepper, evalLogits };
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('a captured training step of a conv net on wasm', () => {
  it('replays bit for bit: losses, weights and running statistics equal eager steps, 1 and 2 threads', async () => {
    const eager = await train(kernels.createBackend(), 'eager');
    const captured = await train(kernels.createBackend(), 'captured');
    expect(captured.stepper!.eagerReason).toBeNull();
    expect(captured.stepper!.launches).toBeGreaterThan(100);
    expect(captured.losses).toEqual(eager.losses);
    expect(Buffer.from(captured.params.buffer).equals(Buffer.from(eager.params.buffer))).toBe(true);
    expect(Buffer.from(captured.buffers.buffer).equals(Buffer.from(eager.buffers.buffer))).toBe(true);
    // The running statistics moved, and the loss is that of 5 classes: the step did what it should.
    expect(Array.from(eager.buffers).some((v) => v !== 0 && v !== 1)).toBe(true);
    expect(eager.losses[0]).toBeGreaterThan(1);
    expect(eager.losses[0]).toBeLessThan(3);
    const be = await kernels.createThreadedBackend({ threads: 2 });
    try {
      const two = await train(be, 'captured');
      expect(two.stepper!.eagerReason).toBeNull();
      expect(two.losses).toEqual(eager.losses);
      expect(Buffer.from(two.params.buffer).equals(Buffer.from(eager.params.buffer))).toBe(true);
      expect(Buffer.from(two.buffers.buffer).equals(Buffer.from(eager.buffers.buffer))).toBe(true);
    } finally {
      await be.dispose();
    }
  });
});

describe('a conv net on wasm with its buffers above 2 GiB of memory', () => {
  // Pointers ≥ 2^31 went through JavaScript's signed `ptr >> 2` into element indices: host writes of
  // the batch landed elsewhere (negative subarray starts count from the end of memory) and reads came
  // from there, so the targets check saw bytes the host never wrote ("target 7 … outside [0, 10)").
  it('captured steps, a larger evaluation batch, and replays after it equal a fresh backend\'s eager ones', async () => {
    const eager = await train(kernels.createBackend(), 'eager', 3, 40, 2);
    const be = kernels.createBackend();
    // 2 GiB at the bottom, never touched (a fresh block is not zeroed): every block after it lies above 2^31.
    const low = be.alloc('float32', 2 ** 29);
    const high = be.alloc('float32', 1);
    expect(be.info().memoryBytes).toBeGreaterThan(2 ** 31);
    expect((high as unknown as { ptr: number }).ptr).toBeGreaterThanOrEqual(2 ** 31);
    const captured = await train(be, 'captured', 3, 40, 2);
    expect(captured.stepper!.eagerReason).toBeNull();
    expect(captured.losses).toEqual(eager.losses);
    expect(same(captured.evalLogits!, eager.evalLogits!)).toBe(true);
    expect(same(captured.params, eager.params)).toBe(true);
    expect(same(captured.buffers, eager.buffers)).toBe(true);
    expect(eager.evalLogits![0]).toBeGreaterThan(1); // the evaluation's loss, of 5 classes
    be.free(high);
    be.free(low);
  });
});
