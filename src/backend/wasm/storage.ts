// The wasm backend's buffer handle: a byte offset into the backend's linear memory, plus the
// ownership and liveness flags that make a use-after-free or a foreign handle fail loudly.
import type { DType, Storage } from '../backend.ts';

export class WasmStorage implements Storage {
  freed = false;

  /**
   * @param ptr   byte offset of element 0 in the backend's memory
   * @param root  the allocation a view belongs to; null for an allocation itself
   * @param owner the backend that made it
   */
  constructor(
    readonly dtype: DType,
    readonly length: number,
    readonly ptr: number,
    readonly root: WasmStorage | null,
    readonly owner: object,
  ) {}

  get isView(): boolean {
    return this.root !== null;
  }

  get isFreed(): boolean {
    return this.freed || (this.root !== null && this.root.freed);
  }
}
