// Tensor: a shape, a dtype and a handle into a backend's memory, plus the autograd links.
// Tensors are always dense and row-major; ops that change layout (permute, slice) copy.
// Values leave the backend only through an explicit read (`toArray`, or `toArraySync` on CPU backends).

import type { AllocInit, Backend, DType, HostArray, Storage } from '../backend/backend.ts';
import { BufferRef, currentArena } from './arena.ts';
import { getDefaultBackend } from './backend-registry.ts';
import { checkShape, fmt, ShapeError, sizeOf, type Shape } from './shape.ts';

/** A recorded op: its inputs and how to turn the output's gradient into theirs. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none). Runs with grad mode off. */
  backward(gradOut: Tensor): readonly (Tensor | null)[];
}

export interface TensorOptions {
  dtype?: DType;
  backend?: Backend;
  requiresGrad?: boolean;
}

export class Tensor {
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient (for parameters, a view into the model's flat gradient buffer). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  node: GradNode | null = null;
  /** Optional name, used in error messages and state dicts. */
  name: string | undefined;

  constructor(
    readonly buf: BufferRef,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {
    this.size = sizeOf(shape);
    if (buf.storage.length !== this.size) {
      throw new ShapeError(`Tensor: shape ${fmt(shape)} needs ${this.size} elements but the buffer has ${buf.storage.length}`);
    }
  }

  get backend(): Backend {
    return this.buf.backend;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The backend handle; throws if the tensor's step arena has already been released. */
  get storage(): Storage {
    if (this.buf.released) {
      throw new Error(
        `Tensor${this.name ? ` '${this.name}'` : ''} ${fmt(this.shape)} was released, at the end of its step scope or by a ` +
          "backward with freeGraph that went past it; read its values inside the scope and before such a backward, or keep() it",
      );
    }
    return this.buf.storage;
  }

  async toArray(): Promise<HostArray> {
    return this.backend.read(this.storage);
  }

  toArraySync(): HostArray {
    const read = this.backend.readSync;
    if (!read) throw new Error(`Backend '${this.backend.name}' reads asynchronously; use await tensor.toArray()`);
    return read.call(this.backend, this.storage);
  }

  /** The single value of a one-element tensor (synchronous; CPU backends). */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item(): tensor has shape ${fmt(this.shape)}, not a single element`);
    return this.toArraySync()[0];
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** A new zero-filled tensor, owned by the current step arena if one is open. */
export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return allocTensor(shape, opts, 'zeros');
}

/** A new tensor whose contents are unspecified (a backend may skip zeroing): for outputs a kernel overwrites entirely. */
export function empty(shape: Shape, opts: TensorOptions = {}): Tensor {
  return allocTensor(shape, opts, 'uninit');
}

function allocTensor(shape: Shape, opts: TensorOptions, init: AllocInit): Tensor {
  checkShape(shape, init === 'zeros' ? 'zeros' : 'empty');
  const backend = opts.backend ?? getDefaultBackend();
  const dtype = opts.dtype ?? 'float32';
  const buf = new BufferRef(backend, backend.alloc(dtype, sizeOf(shape), init), false);
  currentArena()?.track(buf);
  const t = new Tensor(buf, [...shape], dtype);
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  const t = zeros(shape, opts);
  if (value !== 0) t.backend.fill(t.storage, value);
  return t;
}

export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** A tensor holding host data (copied). */
export function tensor(data: ArrayLike<number>, shape?: Shape, opts: TensorOptions = {}): Tensor {
  const s = shape ?? [data.length];
  if (sizeOf(s) !== data.length) {
    throw new ShapeError(`tensor(): ${data.length} values cannot fill shape ${fmt(s)} (${sizeOf(s)} elements)`);
  }
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32');
  const t = empty(s, { ...opts, dtype }); // write() fills every element
  t.backend.write(t.storage, data);
  return t;
}

/** A scalar (shape []) tensor. */
export function scalar(value: number, opts: TensorOptions = {}): Tensor {
  return tensor([value], [], opts);
}

/** A tensor sharing `base`'s buffer with another shape of the same size (no copy). */
export function viewAs(base: Tensor, shape: Shape): Tensor {
  return new Tensor(base.buf, [...shape], base.dtype);
}

/** Wraps an existing storage (a view into a flat buffer) without taking ownership of it. */
export function fromStorage(backend: Backend, storage: Storage, shape: Shape, isView = true): Tensor {
  return new Tensor(new BufferRef(backend, storage, isView), [...shape], storage.dtype);
}

/** Makes a tensor outlive the step arena it was created in (moves it to the enclosing one). */
export function keep(t: Tensor): Tensor {
  currentArena()?.adopt(t.buf);
  return t;
}
