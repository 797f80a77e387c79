// LayerNorm and RMSNorm forward (and LayerNorm backward) GB/s of the wasm kernels, 1 thread, both builds,
// on the shapes `npm run bench` uses (768×128, 2048×384): bytes the math must move (as bench/layernorm.ts
// counts them) over the best of 15 batches, beside a copy of as many bytes (the stridedCopy kernel).
// Run: node --import tsx bench/wasm/layernorm.ts [kernelsDir]   (kernelsDir: other .wasm builds to compare)
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
const kernelsUrl = dir ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`) : undefined;

function bestMs(f: () => void, calls: number): number {
  for (let i = 0; i < 3 * calls; i++) f();
  let best = Infinity;
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return best;
}

for (const relaxed of [true, false]) {
  const be = (await loadWasmKernels({ relaxed, kernelsUrl })).createBackend();
  for (const [R, C] of [[768, 128], [2048, 384]]) {
    const n = R * C;
    const fill = (len: number, seed: number) => {
      const s = be.alloc('float32', len);
      be.write(s, Float32Array.from({ length: len }, (_, i) => (((i * 7919 + seed) % 1000) / 1000 - 0.5) * 2));
      return s;
    };
    const [x, dy, w, b] = [fill(n, 3), fill(n, 5), fill(C, 7), fill(C, 11)];
    const [out, dx, dw, db, mean, rstd, cp] = [n, n, C, C, R, R, n].map((k) => be.alloc('float32', k));
    const calls = Math.max(5, Math.round(2e7 / n));
    const ms = {
      copy: bestMs(() => be.stridedCopy(x, 0, [1], cp, 0, [1], [n]), calls),
      lnF: bestMs(() => be.layerNormForward(x, w, b, out, mean, rstd, R, C, 1e-5), calls),
      lnB: bestMs(() => be.layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, R, C), calls),
      rmsF: bestMs(() => be.rmsNormForward(x, w, out, rstd, R, C, 1e-5), calls),
    };
    const gbs = (bytes: number, t: number) => bytes / (t * 1e6);
    const copy = gbs(8 * n, ms.copy);
    const lnF = gbs(4 * (2 * n + 2 * C + 2 * R), ms.lnF);
    const lnB = gbs(4 * (3 * n + 3 * C + 2 * R), ms.lnB);
    const rmsF = gbs(4 * (2 * n + C + R), ms.rmsF);
    const pct = (v: number) => `${((100 * v) / copy).toFixed(0)}%`;
    console.log(`${relaxed ? 'relaxed' : 'simd   '} ${R}×${C}: copy ${copy.toFixed(1)} GB/s; LayerNorm fwd ${lnF.toFixed(1)} (${pct(lnF)}), ` +
      `bwd ${lnB.toFixed(1)} (${pct(lnB)}); RMSNorm fwd ${rmsF.toFixed(1)} (${pct(rmsF)}) GB/s`);
  }
}
