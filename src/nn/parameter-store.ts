// One flat buffer for all parameters and one for their gradients (as llm.c does), laid out with the
// weight-decayed tensors first so AdamW runs as two fused calls over contiguous ranges.
// Module buffers (running statistics) get a third flat buffer of their own, so the optimizer, the
// gradients and the parameter count, which all work on `data` and `grad`, never see them.
// Initial values are drawn in declaration order (parameters, then buffers), independent of the
// layout and the backend.

import type { Backend, HostArray, Storage } from '../backend/backend.ts';
import type { Rng } from '../tensor/rng.ts';
import { fmt, sizeOf, type Shape } from '../tensor/shape.ts';
import { fromStorage, type Tensor } from '../tensor/tensor.ts';
import type { ModuleBuffer } from './buffer.ts';
import { initValues, type Parameter } from './parameter.ts';

export interface StoreEntry {
  readonly name: string;
  readonly param: Parameter;
  readonly offset: number;
  readonly size: number;
}

export interface BufferEntry {
  readonly name: string;
  readonly buffer: ModuleBuffer;
  /** Into ParameterStore.buffers. */
  readonly offset: number;
  readonly size: number;
}

/** A host-side tensor, as read from or written to a checkpoint. */
export interface HostTensor {
  shape: Shape;
  data: HostArray;
}

export class StateDictError extends Error {
  override name = 'StateDictError';
}

export class ParameterStore {
  private constructor(
    readonly backend: Backend,
    readonly entries: readonly StoreEntry[],
    readonly data: Storage,
    readonly grad: Storage,
    /** Elements [0, decaySize) are weight-decayed; the rest are not. */
    readonly decaySize: number,
    readonly bufferEntries: readonly BufferEntry[],
    /** Every module buffer, in declaration order; null when the model has none. */
    readonly buffers: Storage | null,
  ) {}

  /** Parameters, in elements (the length of `data` and `grad`; buffers are not counted). */
  get size(): number {
    return this.data.length;
  }

  /**
   * dtype is float32 for training; float64 serves the finite-difference gradient checks of whole
   * models (tests), where float32 rounding would drown the difference quotients. `initialise` false
   * leaves every value at zero, for a model whose weights are loaded next: drawing GPT-2 small's
   * 124M initial values took 12 s of loading a checkpoint.
   */
  static create(
    params: readonly [string, Parameter][],
    backend: Backend,
    rng: Rng,
    buffers: readonly [string, ModuleBuffer][] = [],
    dtype: 'float32' | 'float64' = 'float32',
    initialise = true,
  ): ParameterStore {
    const names = new Set<string>();
    for (const [name] of [...params, ...buffers]) {
      if (names.has(name)) throw new StateDictError(`two tensors are named '${name}'; a state dict needs one name for each`);
      names.add(name);
    }
    const ordered = [...params.filter(([, p]) => p.decay), ...params.filter(([, p]) => !p.decay)];
    let offset = 0;
    const entries: StoreEntry[] = ordered.map(([name, param]) => {
      const size = sizeOf(param.shape);
      const e = { name, param, offset, size };
      offset += size;
      return e;
    });
    const decaySize = entries.filter((e) => e.param.decay).reduce((n, e) => n + e.size, 0);
    const data = backend.alloc(dtype, offset);
    const grad = backend.alloc(dtype, offset);
    let bufferOffset = 0;
    const bufferEntries: BufferEntry[] = buffers.map(([name, buffer]) => {
      const size = sizeOf(buffer.shape);
      const e = { name, buffer, offset: bufferOffset, size };
      bufferOffset += size;
      return e;
    });
    const bufferData = bufferEntries.length > 0 ? backend.alloc(dtype, bufferOffset) : null;
    const store = new ParameterStore(backend, entries, data, grad, decaySize, bufferEntries, bufferData);
    const byParam = new Map(entries.map((e) => [e.param, e]));
    for (const [, p] of params) {
      const e = byParam.get(p)!;
      if (initialise) backend.write(backend.view(data, e.offset, e.size), initValues(p.init, e.size, rng));
      const t = fromStorage(backend, backend.view(data, e.offset, e.size), p.shape);
      t.name = e.name;
      t.requiresGrad = true;
      t.grad = fromStorage(backend, backend.view(grad, e.offset, e.size), p.shape);
      p.bind(t);
    }
    // After every parameter, so a model's weights draw the same numbers whatever buffers it has.
    for (const e of bufferEntries) {
      const view = backend.view(bufferData!, e.offset, e.size);
      if (initialise) backend.write(view, initValues(e.buffer.init, e.size, rng));
      const t = fromStorage(backend, view, e.buffer.shape); // requiresGrad stays false, grad null
      t.name = e.name;
      e.buffer.bind(t);
    }
    return store;
  }

  zeroGrad(): void {
    this.backend.fill(this.grad, 0);
  }

  /** A parameter's or a buffer's tensor, by its dotted name. */
  tensorOf(name: string): Tensor {
    const e = this.entries.find((x) => x.name === name);
    if (e) return e.param.value;
    const b = this.bufferEntries.find((x) => x.name === name);
    if (b) return b.buffer.value;
    throw new StateDictError(`no parameter or buffer named '${name}'`);
  }

  /** Copies every parameter, then every buffer, to the host, by name. */
  async stateDict(): Promise<Map<string, HostTensor>> {
    const [all, buffers] = await Promise.all([this.backend.read(this.data), this.buffers ? this.backend.read(this.buffers) : null]);
    const state = new Map(this.entries.map((e) => [e.name, { shape: e.param.shape, data: all.slice(e.offset, e.offset + e.size) }]));
    for (const e of this.bufferEntries) state.set(e.name, { shape: e.buffer.shape, data: buffers!.slice(e.offset, e.offset + e.size) });
    return state;
  }

  /** Loads parameters and buffers by name; every name must be present with the right shape, and no extras. */
  loadStateDict(state: ReadonlyMap<string, HostTensor>, source = 'state dict'): void {
    const list = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;
    const expected = new Set([...this.entries, ...this.bufferEntries].map((e) => e.name));
    const unexpected = [...state.keys()].filter((k) => !expected.has(k));
    if (unexpected.length > 0) {
      throw new StateDictError(`${source} has tensors the model does not: ${list(unexpected)}; was it saved from a different configuration?`);
    }
    const missing = this.entries.filter((e) => !state.has(e.name)).map((e) => e.name);
    if (missing.length > 0) {
      throw new StateDictError(`${source} lacks tensors the model needs: ${list(missing)}; was it saved from a different configuration?`);
    }
    const missingBuffers = this.bufferEntries.filter((e) => !state.has(e.name)).map((e) => e.name);
    if (missingBuffers.length > 0) {
      throw new StateDictError(
        `${source} lacks buffers the model needs: ${list(missingBuffers)} (state saved beside the weights, such as running statistics); was it saved from a different configuration, or by a version without them?`,
      );
    }
    const checkShape = (name: string, shape: Shape) => {
      const t = state.get(name)!;
      if (sizeOf(t.shape) !== sizeOf(shape) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new StateDictError(`${source}: '${name}' has shape ${fmt(t.shape)} but the model expects ${fmt(shape)}; the checkpoint and the config disagree`);
      }
    };
    for (const e of this.entries) checkShape(e.name, e.param.shape);
    for (const e of this.bufferEntries) checkShape(e.name, e.buffer.shape);
    // Validate everything before writing anything, so a bad file leaves the model untouched.
    for (const e of this.entries) this.backend.write(this.backend.view(this.data, e.offset, e.size), state.get(e.name)!.data);
    for (const e of this.bufferEntries) this.backend.write(this.backend.view(this.buffers!, e.offset, e.size), state.get(e.name)!.data);
  }

  /** Frees the weights, the gradients and the buffers; the model is unusable afterwards. */
  release(): void {
    for (const s of [this.data, this.grad, this.buffers]) if (s) this.backend.free(s);
  }
}
