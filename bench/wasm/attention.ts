// Fused causal attention forward and backward of the wasm kernels, one thread, separately, on the
// default config's shape (B·H = 12·4 heads, T = 64, D = 32) and the large one (8·6 heads, T = 256,
// D = 64): best of 5 batches. Run: node --import tsx bench/wasm/attention.ts [kernelsDir]
// (kernelsDir: other .wasm builds, for before/after; bench/attention.ts compares fwd+bwd with PyTorch)
import { pathToFileURL } from 'node:url';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';

const dir = process.argv[2];
const kernelsUrl = dir ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`) : undefined;
const be = (await loadWasmKernels({ kernelsUrl })).createBackend();

function bestMs(f: () => void, calls: number): number {
  for (let i = 0; i < 2 * calls; i++) f(); // warm-up: let V8 tier up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return best;
}

for (const [BH, T, D, calls] of [[48, 64, 32, 20], [48, 256, 64, 3]]) {
  const n = BH * T * D;
  const input = (seed: number) => {
    const s = be.alloc('float32', n);
    be.write(s, Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed)));
    return s;
  };
  const [q, k, v, dout] = [input(1), input(2), input(3), input(4)];
  const [out, dq, dk, dv] = [0, 1, 2, 3].map(() => be.alloc('float32', n));
  const lse = be.alloc('float32', BH * T);
  const scale = 1 / Math.sqrt(D);
  const fwd = bestMs(() => be.attentionForward(q, k, v, out, lse, BH, T, D, scale, true), calls);
  const bwd = bestMs(() => be.attentionBackward(q, k, v, out, lse, dout, dq, dk, dv, BH, T, D, scale, true), calls);
  console.log(`causal attention BH=${BH} T=${T} D=${D}, 1 thread: forward ${(fwd * 1000).toFixed(0)} µs, backward ${(bwd * 1000).toFixed(0)} µs`);
  for (const s of [q, k, v, dout, out, dq, dk, dv, lse]) be.free(s);
}
