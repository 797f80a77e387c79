// The reference backend's buffers: a JS typed array per dtype. The handle checks (foreign, freed, too
// short) and the accounting are ../storage-checks.ts's, shared with the wasm backend.
import type { DType, HostArray, Storage } from '../backend.ts';
import { liveHandle, TrackedStorage } from '../storage-checks.ts';

export type FloatArray = Float32Array | Float64Array;

export class RefStorage extends TrackedStorage {
  declare readonly root: RefStorage | null;

  /**
   * @param data  the elements (a subarray when this is a view)
   * @param root  the allocation a view belongs to; null for an allocation itself
   * @param owner the backend that made it, so a foreign handle is recognised
   */
  constructor(
    readonly data: HostArray,
    root: RefStorage | null,
    owner: object,
  ) {
    super(root, owner);
  }

  get dtype(): DType {
    if (this.data instanceof Float32Array) return 'float32';
    if (this.data instanceof Float64Array) return 'float64';
    return 'int32';
  }

  get length(): number {
    return this.data.length;
  }
}

export function newArray(dtype: DType, length: number): HostArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int32':
      return new Int32Array(length);
    default: {
      const never: never = dtype;
      throw new Error(`Unknown dtype '${String(never)}'; expected float32, float64 or int32.`);
    }
  }
}

/**
 * The typed array behind `s`, after the cheap checks that catch front-end bugs: the handle is one
 * of a ref backend's, it is still live, and it holds at least `need` elements.
 */
export function arr(s: Storage, need = 0, name = 'buffer'): HostArray {
  // Any ref backend's handle (owner null): these free functions do not know which backend calls them.
  return liveHandle(RefStorage, null, 'ref', s, need, name).data;
}

/** arr() for kernels that need floating-point data (norms, softmax, attention, ...). */
export function floats(s: Storage, need = 0, name = 'buffer'): FloatArray {
  const a = arr(s, need, name);
  if (a instanceof Int32Array) {
    throw new Error(`The ref backend expected a float32 or float64 ${name} but got int32; cast it first.`);
  }
  return a;
}

/** arr() for index buffers (targets, token ids), which are int32 storage by contract. */
export function ints(s: Storage, need = 0, name = 'buffer'): Int32Array {
  const a = arr(s, need, name);
  if (!(a instanceof Int32Array)) {
    throw new Error(`The ref backend expected int32 ${name} but got ${s.dtype}; index buffers are int32.`);
  }
  return a;
}
