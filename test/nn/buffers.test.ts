// Module buffers: state saved, loaded and allocated with the model but never trained. A small layer
// with running statistics (what BatchNorm will keep) round-trips them through a state dict and
// model.safetensors, while gradients, AdamW and the parameter count leave them alone.

import { describe, expect, it } from 'vitest';
import { encodeSafetensors, type SafetensorsTensor } from '../../src/io/safetensors.ts';
import { DEFAULT_GPT_CONFIG, GPT } from '../../src/models/gpt.ts';
import type { ModuleBuffer } from '../../src/nn/buffer.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import type { Parameter } from '../../src/nn/parameter.ts';
import { StateDictError, type HostTensor } from '../../src/nn/parameter-store.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { backward, mul, Rng, stepScope, sub, sum, tensor } from '../../src/tensor/index.ts';
import { decodeWeights } from '../../src/train/checkpoint-readers.ts';
import { BACKENDS } from '../helpers/backends.ts';

/** y = (x·Wᵀ + b − running_mean)·scale: the buffer is read in forward, as BatchNorm reads its statistics in eval mode. */
class Tracker extends Module {
  readonly lin: Linear;
  readonly scale: Parameter;
  readonly runningMean: ModuleBuffer;
  readonly runningVar: ModuleBuffer;
  constructor() {
    super();
    this.lin = this.child('lin', new Linear(3, 2));
    this.scale = this.param('scale', [2], { kind: 'ones' });
    this.runningMean = this.buffer('running_mean', [2]);
    this.runningVar = this.buffer('running_var', [2], { kind: 'ones' });
  }
}

class Net extends Module {
  readonly a: Tracker;
  readonly b: Tracker;
  constructor() {
    super();
    this.a = this.child('a', new Tracker());
    this.b = this.child('b', new Tracker());
  }
}

const BUFFERS = ['a.running_mean', 'a.running_var', 'b.running_mean', 'b.running_var'];
const values = async (b: ModuleBuffer) => Array.from(await b.value.toArray());

describe.each(BACKENDS)('module buffers on $name', ({ make }) => {
  const backend = make();
  const fresh = (seed: number) => new Net().materialize(backend, new Rng(seed));
  /** Running statistics as a training step would have left them. */
  const update = (net: Net) => {
    backend.write(net.a.runningMean.value.storage, Float32Array.of(0.5, -2));
    backend.write(net.b.runningVar.value.storage, Float32Array.of(3, 0.25));
  };

  it('are named like parameters, allocated on the backend beside them, and not counted as parameters', async () => {
    const net = fresh(1);
    const store = net.store!;
    expect(net.namedBuffers().map(([n]) => n)).toEqual(BUFFERS);
    expect(net.numParameters()).toBe(2 * (2 * 3 + 2 + 2));
    expect(store.size).toBe(net.numParameters());
    expect(store.buffers!.length).toBe(8);
    for (const [name, b] of net.namedBuffers()) {
      expect(b.value.backend).toBe(backend);
      expect(b.value.requiresGrad).toBe(false);
      expect(b.value.grad).toBeNull();
      expect(store.tensorOf(name)).toBe(b.value);
    }
    expect(await values(net.a.runningMean)).toEqual([0, 0]);
    expect(await values(net.b.runningVar)).toEqual([1, 1]);
    const state = await store.stateDict();
    expect([...state.keys()].slice(-4)).toEqual(BUFFERS);
    expect(state.get('a.running_var')).toEqual({ shape: [2], data: Float32Array.of(1, 1) });
  });

  it('round-trip through a state dict and model.safetensors into another model', async () => {
    const a = fresh(1);
    update(a);
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const [name, t] of await a.store!.stateDict()) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    // As encodeWeights writes a checkpoint and loadCheckpoint reads it back.
    const { state } = decodeWeights(encodeSafetensors(tensors, { format: 'resnorm', step: '0' }), 'run/model.safetensors');
    expect([...state.keys()]).toEqual(expect.arrayContaining(BUFFERS));

    const b = fresh(2);
    b.store!.loadStateDict(state, 'run/model.safetensors');
    expect(await values(b.a.runningMean)).toEqual([0.5, -2]);
    expect(await values(b.b.runningVar)).toEqual([3, 0.25]);
    expect(await values(b.a.runningVar)).toEqual([1, 1]);
    expect(Array.from(await backend.read(b.store!.data))).toEqual(Array.from(await backend.read(a.store!.data)));
  });

  it('get no gradient and no AdamW update, even with weight decay', async () => {
    const net = fresh(3);
    update(net);
    const before = await net.store!.stateDict();
    const opt = new AdamW(net.store!, { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5 });
    for (let step = 0; step < 3; step++) {
      stepScope(() => {
        const x = tensor(Float32Array.of(1, -2, 3, 0.5, 0, -1), [2, 3], { backend });
        const t = net.a;
        const y = mul(sub(t.lin.forward(x), t.runningMean.value), t.scale.value); // (2, 2)
        net.store!.zeroGrad();
        backward(sum(y));
      });
      expect(net.a.runningMean.value.grad).toBeNull();
      opt.update();
    }
    const after = await net.store!.stateDict();
    for (const name of BUFFERS) expect(after.get(name), name).toEqual(before.get(name));
    // The parameters did train: the gradient reached them through the buffer's subtraction.
    expect(after.get('a.lin.weight')!.data).not.toEqual(before.get('a.lin.weight')!.data);
    expect(after.get('a.scale')!.data).not.toEqual(before.get('a.scale')!.data);
    expect(opt.m.length).toBe(net.numParameters());
    expect(net.store!.grad.length).toBe(net.numParameters());
  });

  it('must be in a state dict: one without them, or with a wrong shape, is refused and changes nothing', async () => {
    const source = fresh(1);
    update(source);
    const state = await source.store!.stateDict();
    const target = fresh(2);
    const before = await target.store!.stateDict();

    const missing = new Map<string, HostTensor>(state);
    missing.delete('b.running_var');
    expect(() => target.store!.loadStateDict(missing, 'old/model.safetensors')).toThrow(StateDictError);
    expect(() => target.store!.loadStateDict(missing, 'old/model.safetensors')).toThrow(
      /old\/model.safetensors lacks buffers the model needs: b.running_var \(state saved beside the weights, such as running statistics\)/,
    );
    const misshapen = new Map(state).set('a.running_mean', { shape: [3], data: new Float32Array(3) });
    expect(() => target.store!.loadStateDict(misshapen, 'ckpt')).toThrow(/ckpt: 'a.running_mean' has shape \[3\] but the model expects \[2\]/);
    expect(await target.store!.stateDict()).toEqual(before);
  });
});

describe('registering buffers', () => {
  it('refuses a buffer with the name of a parameter, and a model without buffers allocates none', () => {
    class Clash extends Module {
      constructor() {
        super();
        this.param('weight', [2], { kind: 'ones' });
        this.buffer('weight', [2]);
      }
    }
    expect(() => new Clash()).toThrow(/Clash: 'weight' is already registered/);
    const gpt = GPT.create({ ...DEFAULT_GPT_CONFIG, vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 });
    expect(gpt.namedBuffers()).toEqual([]);
    expect(gpt.store!.buffers).toBeNull();
  });
});
