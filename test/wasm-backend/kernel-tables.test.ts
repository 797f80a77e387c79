// The load-time check that the TypeScript tables (op codes, JOBS, the exports and their parameter
// counts) agree with the kernels binary: it passes on both SIMD builds, and each kind of drift, made in a
// copy of a table or of the exports, fails loudly, naming the entry.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasRelaxedSimd } from '../../src/backend/wasm/load.ts';
import { loadWasmKernels, WasmKernels } from '../../src/backend/wasm/index.ts';
import { checkKernelExports, KERNEL_TABLES, type KernelTables } from '../../src/backend/wasm/kernel-tables.ts';

const flavours: WasmKernels[] = [await loadWasmKernels({ relaxed: false })];
if (await hasRelaxedSimd()) flavours.push(await loadWasmKernels({ relaxed: true }));

function exportsOf(kernels: WasmKernels): WebAssembly.Exports {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  return new WebAssembly.Instance(kernels.compiled.module, { env: { memory } }).exports;
}

const i32 = (v: number) => new WebAssembly.Global({ value: 'i32', mutable: false }, v);

describe.each(flavours.map((k) => [k.flavour, k] as const))('kernel tables, %s build', (flavour, kernels) => {
  const ex = exportsOf(kernels);
  const check = (tables: KernelTables, exports = ex) => () => checkKernelExports(exports, flavour, tables);
  const { codes, arity, jobs } = KERNEL_TABLES;

  it('agree with the binary', () => {
    expect(check(KERNEL_TABLES)).not.toThrow();
    expect(() => kernels.createBackend()).not.toThrow();
  });

  it('fail on a changed, added or removed op code', () => {
    const changed = { ...codes, UNARY: { ...codes.UNARY, gelu: 8 } };
    expect(check({ ...KERNEL_TABLES, codes: changed })).toThrow(/UNARY_GELU is 7 in the kernels, 8 in the table.*share code 8/);
    const added = { ...codes, REDUCE: { ...codes.REDUCE, mean: 3 } };
    expect(check({ ...KERNEL_TABLES, codes: added })).toThrow(/REDUCE_COUNT is 3 in the kernels, 4 in the table; REDUCE_MEAN is undefined/);
    const { div: _div, ...binary } = codes.BINARY;
    expect(check({ ...KERNEL_TABLES, codes: { ...codes, BINARY: binary } })).toThrow(/BINARY_COUNT is 5 in the kernels, 4 in the table/);
  });

  it('fail on a binary whose codes or build differ from the table (a stale or misnamed .wasm)', () => {
    expect(check(KERNEL_TABLES, { ...ex, UNARY_TANH: i32(9) })).toThrow(/UNARY_TANH is 9 in the kernels, 4 in the table/);
    expect(check(KERNEL_TABLES, { ...ex, RELAXED_SIMD: i32(flavour === 'relaxed' ? 0 : 1) })).toThrow(/RELAXED_SIMD/);
    const misnamed = new WasmKernels({ module: kernels.compiled.module, flavour: flavour === 'relaxed' ? 'simd' : 'relaxed' });
    expect(() => misnamed.createBackend()).toThrow(/do not match the backend's tables.*RELAXED_SIMD.*npm run build:wasm/);
  });

  it('fail on a job missing, unknown, listed twice, or with more arguments than the pool carries', () => {
    expect(check({ ...KERNEL_TABLES, jobs: jobs.filter((j) => j !== 'adamwPart') })).toThrow(/adamwPart is no job/);
    expect(check({ ...KERNEL_TABLES, jobs: [...jobs, 'zero'] })).toThrow(/job zero is not a \*Part kernel/);
    expect(check({ ...KERNEL_TABLES, jobs: [...jobs, 'fusedPart'] })).toThrow(/job fusedPart is not a \*Part kernel/);
    expect(check({ ...KERNEL_TABLES, jobs: [...jobs, jobs[0]] })).toThrow(/a job is listed twice/);
    expect(check({ ...KERNEL_TABLES, maxJobArgs: 24 })).toThrow(/job attentionBackwardPart takes 25 arguments, more than a pool job carries \(24\)/);
  });

  it('fail on an export missing, unlisted, or with another parameter count', () => {
    expect(check({ ...KERNEL_TABLES, arity: { ...arity, matmulPart: 15 } })).toThrow(/matmulPart takes 16 parameters in the kernels, 15 in the table/);
    expect(check({ ...KERNEL_TABLES, arity: { ...arity, layerNormForward: 9 } })).toThrow(/layerNormForward is not exported/);
    const { zero: _zero, ...fewer } = arity;
    expect(check({ ...KERNEL_TABLES, arity: fewer })).toThrow(/the kernels export zero, which the table lacks/);
  });

  it('ship no benchmark loop and no export the backend does not call', () => {
    expect(Object.keys(ex).filter((n) => typeof ex[n] === 'function').sort()).toEqual(Object.keys(arity).sort());
    expect(ex.peakLoop).toBeUndefined();
    // Every export is a job or called by name (`k.name`) somewhere in the backend's sources.
    const dir = new URL('../../src/backend/wasm/', import.meta.url);
    const source = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
    const uncalled = Object.keys(arity).filter((n) => !jobs.includes(n) && !new RegExp(`\\bk\\.${n}\\b`).test(source));
    expect(uncalled).toEqual([]);
  });
});
