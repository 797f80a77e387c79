// GELU forward and backward throughput of the wasm kernels (one thread) on the default config's MLP
// activation (B = 12, T = 64, 4C = 512), in ns per element, best of 5 batches of 20 calls.
// Run: node --import tsx bench/wasm/gelu.ts
import type { UnaryOp } from '../../src/backend/backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';

const be = (await loadWasmKernels()).createBackend();
const n = 12 * 64 * 512;
const x = be.alloc('float32', n);
const y = be.alloc('float32', n);
const dy = be.alloc('float32', n);
const dx = be.alloc('float32', n);
be.write(x, Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3));
be.write(dy, Float32Array.from({ length: n }, (_, i) => Math.cos(i)));

function nsPerElement(f: () => void): number {
  for (let i = 0; i < 20; i++) f(); // warm-up: let V8 tier up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) f();
    best = Math.min(best, (performance.now() - t0) / 20);
  }
  return (best * 1e6) / n;
}

for (const op of ['gelu', 'gelu_tanh'] as UnaryOp[]) {
  const fwd = nsPerElement(() => be.unary(op, x, y));
  const bwd = nsPerElement(() => be.unaryBackward(op, x, dy, dx));
  console.log(`${op.padEnd(9)} forward ${fwd.toFixed(2)} ns/element, backward ${bwd.toFixed(2)} ns/element (${n} elements)`);
}
