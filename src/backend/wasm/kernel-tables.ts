// The tables the TypeScript side shares with the kernels (op codes, the pool's job list, the exports
// and their parameter counts) and the check, at load, that the binary agrees with each of them.
//
// Checked at load rather than generated from one source, after ggml's static_assert(GGML_OP_COUNT == …):
// what runs is the committed .wasm, not assembly/, so a table generated from the source can agree with it
// and still not with a stale binary. The binary exports its own constants (assembly/codes.ts), and
// checkKernelExports compares them, name by name, with what the backend passes; no build step or
// generated file to keep current. Once per backend, nothing per launch.
import type { BinaryOp, ReduceOp, UnaryOp } from '../backend.ts';
import { KERNEL_ARITY } from './kernels.ts';
import type { SimdFlavour } from './load.ts';
import { JOBS, MAX_ARGS } from './thread-pool.ts';

export const UNARY_CODE: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, relu: 5, sigmoid: 6, gelu: 7, gelu_tanh: 8,
};
export const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };
/** binaryPart's code for the backend's equal(). */
export const EQUAL_CODE = 4;
export const REDUCE_CODE: Record<ReduceOp, number> = { sum: 0, max: 1, sumsq: 2 };

export interface KernelTables {
  /** Export prefix → op name → code: the binary holds each code as `${prefix}_${NAME}`, and their number as `${prefix}_COUNT`. */
  readonly codes: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The pool's jobs (a job's id is its index, sent to workers that look the same list up by name). */
  readonly jobs: readonly string[];
  /** Every function the binary exports, with its parameter count. */
  readonly arity: Readonly<Record<string, number>>;
  /** Arguments a pool job can carry (the control block's slots), besides (tid, threads). */
  readonly maxJobArgs: number;
}

export const KERNEL_TABLES: KernelTables = {
  codes: { UNARY: UNARY_CODE, BINARY: { ...BINARY_CODE, equal: EQUAL_CODE }, REDUCE: REDUCE_CODE },
  jobs: JOBS,
  arity: KERNEL_ARITY,
  maxJobArgs: MAX_ARGS,
};

/** The value of an exported immutable global, or undefined when there is no such export. */
function constant(exports: WebAssembly.Exports, name: string): number | undefined {
  const g = exports[name];
  return g instanceof WebAssembly.Global ? Number(g.value) : undefined;
}

/**
 * Throws, listing every mismatch, unless the instance's exports are exactly what `tables` say: each op
 * code and count, the build (relaxed SIMD or not) its file name promised, the same functions with the
 * same parameter counts, and every `*Part` kernel a job (and every job a `*Part` kernel).
 */
export function checkKernelExports(exports: WebAssembly.Exports, flavour: SimdFlavour, tables: KernelTables = KERNEL_TABLES): void {
  const bad: string[] = [];
  for (const [prefix, table] of Object.entries(tables.codes)) {
    const entries = Object.entries(table);
    const count = constant(exports, `${prefix}_COUNT`);
    if (count !== entries.length) bad.push(`${prefix}_COUNT is ${count} in the kernels, ${entries.length} in the table`);
    const seen = new Map<number, string>();
    for (const [op, code] of entries) {
      const name = `${prefix}_${op.toUpperCase()}`;
      const actual = constant(exports, name);
      if (actual !== code) bad.push(`${name} is ${actual} in the kernels, ${code} in the table`);
      const twin = seen.get(code);
      if (twin !== undefined) bad.push(`${prefix} ops ${twin} and ${op} share code ${code}`);
      seen.set(code, op);
    }
  }
  const relaxed = constant(exports, 'RELAXED_SIMD');
  if (relaxed !== (flavour === 'relaxed' ? 1 : 0)) bad.push(`the ${flavour} build's RELAXED_SIMD is ${relaxed}`);

  const fns = new Map<string, number>();
  for (const [name, v] of Object.entries(exports)) if (typeof v === 'function') fns.set(name, v.length);
  for (const [name, n] of Object.entries(tables.arity)) {
    const actual = fns.get(name);
    if (actual === undefined) bad.push(`${name} is not exported by the kernels`);
    else if (actual !== n) bad.push(`${name} takes ${actual} parameters in the kernels, ${n} in the table`);
  }
  for (const name of fns.keys()) if (!(name in tables.arity)) bad.push(`the kernels export ${name}, which the table lacks`);

  const jobs = new Set(tables.jobs);
  if (jobs.size !== tables.jobs.length) bad.push('a job is listed twice');
  for (const job of jobs) {
    const n = fns.get(job);
    if (n === undefined || !job.endsWith('Part')) bad.push(`job ${job} is not a *Part kernel the kernels export`);
    else if (n - 2 > tables.maxJobArgs) bad.push(`job ${job} takes ${n - 2} arguments, more than a pool job carries (${tables.maxJobArgs})`);
  }
  for (const name of fns.keys()) if (name.endsWith('Part') && !jobs.has(name)) bad.push(`${name} is no job (thread-pool.ts JOBS lacks it)`);

  if (bad.length > 0) {
    throw new Error(`The wasm kernels (${flavour} build) do not match the backend's tables: ${bad.join('; ')}. ` +
      'Rebuild them (`npm run build:wasm`) after changing assembly/, or fix the table named.');
  }
}
