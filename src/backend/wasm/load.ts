// Finds and compiles the kernels: the relaxed-SIMD build when the runtime accepts it, the plain SIMD
// build otherwise. Node 20 ships relaxed SIMD behind a V8 flag, which is set here at run time (through
// a dynamic import, so a browser bundle never sees `node:` modules) — a user never passes a flag.

// The smallest modules that use one f32x4 op of each feature: () → () { v128.const 0 ×3; op; drop }.
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

function probe(op: number[], operands: number): Uint8Array<ArrayBuffer> {
  const body = [0x00, ...Array.from({ length: operands }, () => V128_ZERO).flat(), ...op, 0x1a, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one func () → ()
    0x03, 0x02, 0x01, 0x00, // function section
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

const SIMD_PROBE = probe([0xfd, 0xe4, 0x01], 2); // f32x4.add
const RELAXED_PROBE = probe([0xfd, 0x85, 0x02], 3); // f32x4.relaxed_madd

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

export function hasSimd(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/** True when relaxed SIMD validates, after enabling V8's flag for it on Node where it is off by default. */
export async function hasRelaxedSimd(): Promise<boolean> {
  if (WebAssembly.validate(RELAXED_PROBE)) return true;
  if (!isNode()) return false;
  try {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(RELAXED_PROBE);
}

async function wasmBytes(flavour: SimdFlavour, base?: string | URL): Promise<Uint8Array<ArrayBuffer>> {
  const file = flavour === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels-simd.wasm';
  // Literal `new URL('./x.wasm', import.meta.url)` so that bundlers see (and copy) the assets.
  const beside = flavour === 'relaxed' ? new URL('./kernels-relaxed.wasm', import.meta.url) : new URL('./kernels-simd.wasm', import.meta.url);
  const dir = base === undefined ? null : new URL(base, globalThis.location?.href);
  if (dir && !dir.pathname.endsWith('/')) dir.pathname += '/';
  const url = dir ? new URL(file, dir) : beside;
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(url));
    } catch (e) {
      throw new Error(`The wasm backend's kernels are missing at ${url.pathname}; run \`npm run build:wasm\`. (${String(e)})`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Could not fetch the wasm backend's kernels from ${url.href}: HTTP ${res.status}.`);
  return new Uint8Array(await res.arrayBuffer());
}

export type SimdFlavour = 'relaxed' | 'simd';

export interface CompiledKernels {
  module: WebAssembly.Module;
  flavour: SimdFlavour;
}

/**
 * Compiles the best build this runtime runs. `relaxed`: 'auto' picks relaxed SIMD when available;
 * false forces plain SIMD; true demands relaxed SIMD and throws without it. `kernelsUrl`: the folder
 * the .wasm files are fetched from (default: beside this module).
 */
export async function compileKernels(relaxed: boolean | 'auto' = 'auto', kernelsUrl?: string | URL): Promise<CompiledKernels> {
  if (!hasSimd()) {
    throw new Error('This JavaScript runtime has no WebAssembly SIMD, which the wasm backend needs; use the ref backend.');
  }
  let flavour: SimdFlavour = 'simd';
  if (relaxed !== false) {
    const ok = await hasRelaxedSimd();
    if (!ok && relaxed === true) {
      throw new Error('Relaxed SIMD was requested but this runtime does not support it; pass relaxed: "auto" or false.');
    }
    if (ok) flavour = 'relaxed';
  }
  const bytes = await wasmBytes(flavour, kernelsUrl);
  return { module: await WebAssembly.compile(bytes), flavour };
}
