// One flat buffer for all parameters and one for their gradients (as llm.c does), laid out with the
// weight-decayed tensors first so AdamW runs as two fused calls over contiguous ranges.
// Initial values are drawn in declaration order, independent of the layout and the backend.

import type { Backend, HostArray, Storage } from '../backend/backend.ts';
import type { Rng } from '../tensor/rng.ts';
import { fmt, sizeOf, type Shape } from '../tensor/shape.ts';
import { fromStorage, type Tensor } from '../tensor/tensor.ts';
import { initValues, type Parameter } from './parameter.ts';

export interface StoreEntry {
  readonly name: string;
  readonly param: Parameter;
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
  ) {}

  get size(): number {
    return this.data.length;
  }

  static create(params: readonly [string, Parameter][], backend: Backend, rng: Rng): ParameterStore {
    const ordered = [...params.filter(([, p]) => p.decay), ...params.filter(([, p]) => !p.decay)];
    let offset = 0;
    const entries: StoreEntry[] = ordered.map(([name, param]) => {
      const size = sizeOf(param.shape);
      const e = { name, param, offset, size };
      offset += size;
      return e;
    });
    const decaySize = entries.filter((e) => e.param.decay).reduce((n, e) => n + e.size, 0);
    const data = backend.alloc('float32', offset);
    const grad = backend.alloc('float32', offset);
    const store = new ParameterStore(backend, entries, data, grad, decaySize);
    const byParam = new Map(entries.map((e) => [e.param, e]));
    for (const [, p] of params) {
      const e = byParam.get(p)!;
      backend.write(backend.view(data, e.offset, e.size), initValues(p.init, e.size, rng));
      const t = fromStorage(backend, backend.view(data, e.offset, e.size), p.shape);
      t.name = e.name;
      t.requiresGrad = true;
      t.grad = fromStorage(backend, backend.view(grad, e.offset, e.size), p.shape);
      p.bind(t);
    }
    return store;
  }

  zeroGrad(): void {
    this.backend.fill(this.grad, 0);
  }

  tensorOf(name: string): Tensor {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw new StateDictError(`no parameter named '${name}'`);
    return e.param.value;
  }

  /** Copies every parameter to the host, by name. */
  async stateDict(): Promise<Map<string, HostTensor>> {
    const all = await this.backend.read(this.data);
    return new Map(this.entries.map((e) => [e.name, { shape: e.param.shape, data: all.slice(e.offset, e.offset + e.size) }]));
  }

  /** Loads parameters by name; every name must be present with the right shape, and no extras. */
  loadStateDict(state: ReadonlyMap<string, HostTensor>, source = 'state dict'): void {
    const expected = new Set(this.entries.map((e) => e.name));
    const unexpected = [...state.keys()].filter((k) => !expected.has(k));
    if (unexpected.length > 0) {
      throw new StateDictError(`${source} has tensors the model does not: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''}; was it saved from a different configuration?`);
    }
    const missing = this.entries.filter((e) => !state.has(e.name)).map((e) => e.name);
    if (missing.length > 0) {
      throw new StateDictError(`${source} lacks tensors the model needs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}; was it saved from a different configuration?`);
    }
    for (const e of this.entries) {
      const t = state.get(e.name)!;
      if (sizeOf(t.shape) !== e.size || t.shape.length !== e.param.shape.length || t.shape.some((d, i) => d !== e.param.shape[i])) {
        throw new StateDictError(`${source}: '${e.name}' has shape ${fmt(t.shape)} but the model expects ${fmt(e.param.shape)}; the checkpoint and the config disagree`);
      }
    }
    // Validate everything before writing anything, so a bad file leaves the model untouched.
    for (const e of this.entries) this.backend.write(this.backend.view(this.data, e.offset, e.size), state.get(e.name)!.data);
  }
}
