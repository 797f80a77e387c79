// LayerNorm forward and backward bandwidth (GB/s of bytes the kernel must read and write), beside a
// plain copy of as many bytes in the same WebAssembly memory: the wasm stridedCopy kernel and V8's
// TypedArray.prototype.set (a memmove); the faster of the two is the reference.

import type { Backend, Storage } from '../src/backend/backend.ts';
import type { WasmBackend } from '../src/backend/wasm/index.ts';
import type { WasmStorage } from '../src/backend/wasm/storage.ts';
import { fmtNum, timeBudgetMs, type Row } from './report.ts';

export interface NormShape {
  name: string;
  rows: number;
  C: number;
}

function filled(be: Backend, n: number, seed: number): Storage {
  const s = be.alloc('float32', n);
  be.write(s, Float32Array.from({ length: n }, (_, i) => (((i * 7919 + seed) % 1000) / 1000 - 0.5) * 2));
  return s;
}

/** GB/s of copying `floats` floats within `be`'s memory: [stridedCopy kernel, TypedArray.set]. */
function copyGBs(be: WasmBackend, floats: number, budgetMs: number): [number, number] {
  const src = filled(be, floats, 1);
  const dst = be.alloc('float32', floats);
  const bytes = 8 * floats; // read + written
  const kernelMs = timeBudgetMs(() => be.stridedCopy(src, 0, [1], dst, 0, [1], [floats]), budgetMs);
  const f32 = new Float32Array(be.memory.buffer);
  const s = (src as WasmStorage).ptr / 4;
  const d = (dst as WasmStorage).ptr / 4;
  const from = f32.subarray(s, s + floats);
  const to = f32.subarray(d, d + floats);
  const setMs = timeBudgetMs(() => to.set(from), budgetMs);
  be.free(src);
  be.free(dst);
  return [bytes / (kernelMs * 1e6), bytes / (setMs * 1e6)];
}

export function benchLayerNorm(be: WasmBackend, shapes: readonly NormShape[], budgetMs: number, label: string): Row[] {
  const rows: Row[] = [];
  for (const { name, rows: R, C } of shapes) {
    const x = filled(be, R * C, 3);
    const dy = filled(be, R * C, 5);
    const w = filled(be, C, 7);
    const b = filled(be, C, 11);
    const out = be.alloc('float32', R * C);
    const dx = be.alloc('float32', R * C);
    const dw = be.alloc('float32', C);
    const db = be.alloc('float32', C);
    const mean = be.alloc('float32', R);
    const rstd = be.alloc('float32', R);
    const fwd = () => be.layerNormForward(x, w, b, out, mean, rstd, R, C, 1e-5);
    const bwd = () => be.layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, R, C);
    fwd();
    // Bytes the math has to move: forward reads x, w, b and writes y, mean, rstd; backward reads dy, x,
    // w, mean, rstd and writes dx, dw, db.
    const cases: [string, () => void, number][] = [
      ['forward', fwd, 4 * (2 * R * C + 2 * C + 2 * R)],
      ['backward', bwd, 4 * (3 * R * C + 3 * C + 2 * R)],
    ];
    for (const [dir, fn, bytes] of cases) {
      const gbs = bytes / (timeBudgetMs(fn, budgetMs) * 1e6);
      const [kernel, set] = copyGBs(be, Math.round(bytes / 8), budgetMs);
      const refValue = Math.max(kernel, set);
      rows.push({
        section: 'layernorm',
        bench: `layernorm ${dir}, wasm ${label}`,
        case: `${name}: ${R}×${C}, ${(bytes / 2 ** 20).toFixed(1)} MiB moved`,
        value: gbs,
        unit: 'GB/s',
        reference: { name: 'copy of the same bytes', value: refValue },
        note: `${((100 * gbs) / refValue).toFixed(0)}% of copy; copy: stridedCopy ${fmtNum(kernel)}, TypedArray.set ${fmtNum(set)} GB/s`,
      });
    }
    for (const s of [x, dy, w, b, out, dx, dw, db, mean, rstd]) be.free(s);
  }
  return rows;
}
