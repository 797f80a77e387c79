// The wasm backend's buffer handle: a byte offset into the backend's linear memory. Ownership and
// liveness (a use-after-free or a foreign handle fails loudly) are ../storage-checks.ts's TrackedStorage.
import type { DType } from '../backend.ts';
import { TrackedStorage } from '../storage-checks.ts';

export class WasmStorage extends TrackedStorage {
  declare readonly root: WasmStorage | null;

  /**
   * @param ptr   byte offset of element 0 in the backend's memory
   * @param root  the allocation a view belongs to; null for an allocation itself
   * @param owner the backend that made it
   */
  constructor(
    readonly dtype: DType,
    readonly length: number,
    readonly ptr: number,
    root: WasmStorage | null,
    owner: object,
  ) {
    super(root, owner);
  }
}
