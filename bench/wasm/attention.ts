// Fused causal attention forward and backward of the wasm kernels, one thread, separately, on the
// default config's shape (B·H = 12·4 heads, T = 64, D = 32): best of 5 batches of 20 calls.
// Run: node --import tsx bench/wasm/attention.ts   (bench/attention.ts compares fwd+bwd with PyTorch)
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';

const be = (await loadWasmKernels()).createBackend();
const [BH, T, D] = [48, 64, 32];
const n = BH * T * D;
const input = (seed: number) => {
  const s = be.alloc('float32', n);
  be.write(s, Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed)));
  return s;
};
const [q, k, v, dout] = [input(1), input(2), input(3), input(4)];
const [out, dq, dk, dv] = [0, 1, 2, 3].map(() => be.alloc('float32', n));
const lse = be.alloc('float32', BH * T);

function bestMs(f: () => void): number {
  for (let i = 0; i < 50; i++) f(); // warm-up: let V8 tier up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) f();
    best = Math.min(best, (performance.now() - t0) / 20);
  }
  return best;
}

const scale = 1 / Math.sqrt(D);
const fwd = bestMs(() => be.attentionForward(q, k, v, out, lse, BH, T, D, scale, true));
const bwd = bestMs(() => be.attentionBackward(q, k, v, out, lse, dout, dq, dk, dv, BH, T, D, scale, true));
console.log(`causal attention BH=${BH} T=${T} D=${D}, 1 thread: forward ${(fwd * 1000).toFixed(0)} µs, backward ${(bwd * 1000).toFixed(0)} µs`);
