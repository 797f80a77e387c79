// Fused causal attention forward and backward of the wasm kernels, one thread, separately, on the
// default config's shape (B = 12, H = 4, T = 64, D = 32) and the large one (B = 8, H = 6, T = 256,
// D = 64), for both layouts the kernels take: dense (B, H, T, D) operands, and packed ones (q, k, v read
// from one (B, T, 3C) projection, out written as (B, T, C), dq, dk, dv into one (B, T, 3C) gradient: what
// training runs). Best of 5 batches; with --cold, best of 10 single calls, each after sweeping 128 MiB
// through the cache (in a training step the operands were written long before, as here).
// Run: node --import tsx bench/wasm/attention.ts [kernelsDir] [--cold]
// (kernelsDir: other .wasm builds, for before/after; builds before the strided attention kernels take
// other arguments. bench/attention.ts compares fwd+bwd with PyTorch)
import { pathToFileURL } from 'node:url';
import type { HeadLayout, Storage } from '../../src/backend/backend.ts';
import { denseHeads } from '../../src/backend/kernel-shapes.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';

const cold = process.argv.includes('--cold');
const dir = process.argv.slice(2).find((a) => !a.startsWith('--'));
const kernelsUrl = dir ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`) : undefined;
const be = (await loadWasmKernels({ kernelsUrl })).createBackend();

const sweep = cold ? [be.alloc('float32', 1 << 24), be.alloc('float32', 1 << 24)] : [];

function bestMs(f: () => void, calls: number): number {
  for (let i = 0; i < 2 * calls; i++) f(); // warm-up: let V8 tier up
  let best = Infinity;
  if (cold) {
    for (let r = 0; r < 10; r++) {
      be.axpy(sweep[0], sweep[1], 1); // 128 MiB read and written: evicts the operands from every cache level
      const t0 = performance.now();
      f();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  }
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return best;
}

const input = (n: number, seed: number): Storage => {
  const s = be.alloc('float32', n);
  be.write(s, Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed)));
  return s;
};

for (const [B, H, T, D, calls] of [[12, 4, 64, 32, 20], [8, 6, 256, 64, 3]]) {
  const C = H * D;
  const n = B * T * C;
  const scale = 1 / Math.sqrt(D);
  const lse = be.alloc('float32', B * H * T);
  // Dense: separate (B, H, T, D) buffers. Packed: views of one (B, T, 3C) buffer at offsets 0, C, 2C.
  const dense = denseHeads(H, T, D);
  const [q, k, v, dout] = [1, 2, 3, 4].map((seed) => input(n, seed));
  const [out, dq, dk, dv] = [0, 1, 2, 3].map(() => be.alloc('float32', n));
  const qkv = input(3 * n, 5);
  const dqkv = be.alloc('float32', 3 * n);
  const third = (s: Storage, i: number) => be.view(s, i * C, 3 * n - 2 * C);
  const packed: HeadLayout = { batch: T * 3 * C, head: D, row: 3 * C };
  const merged: HeadLayout = { batch: T * C, head: D, row: C };
  const layouts = {
    dense: { q, k, v, in: dense, out: dense, dq, dk, dv },
    packed: { q: third(qkv, 0), k: third(qkv, 1), v: third(qkv, 2), in: packed, out: merged, dq: third(dqkv, 0), dk: third(dqkv, 1),
      dv: third(dqkv, 2) },
  };
  for (const [name, l] of Object.entries(layouts)) {
    const fwd = bestMs(() => be.attentionForward(l.q, l.k, l.v, l.in, out, l.out, lse, B, H, T, D, scale, true), calls);
    const bwd = bestMs(() => be.attentionBackward(l.q, l.k, l.v, l.in, out, dout, l.out, lse, l.dq, l.dk, l.dv, l.in, B, H, T, D, scale,
      true), calls);
    console.log(`causal attention B=${B} H=${H} T=${T} D=${D}, ${name.padEnd(6)}, 1 thread${cold ? ', cold' : ''}: forward ${(fwd * 1000).toFixed(0)} µs, ` +
      `backward ${(bwd * 1000).toFixed(0)} µs`);
  }
  for (const s of [q, k, v, dout, out, dq, dk, dv, lse, qkv, dqkv]) be.free(s);
}
