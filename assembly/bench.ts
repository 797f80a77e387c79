// The machine's 128-bit SIMD peak as WebAssembly sees it: 12 independent chains a ← a·b + c, enough to
// cover a multiply-add's latency (fused, ~4 cycles, or mul then add, ~6-8) at two per cycle, in 14 of
// the 16 vector registers so nothing spills. Counts 2·4·12 flops per iteration. (A variant with
// acc += a_i·b needs 12 extra live multiplicands, spills, and reads 5x lower.) Not in the shipped kernels
// (assembly/index.ts does not export it): bench/wasm/peak.ts compiles it at bench time.
import { madd } from './simd';

export const PEAK_CHAINS: i32 = 12;

export function peakLoop(iters: i32, seed: f32): f32 {
  const b = f32x4.splat(0.999999);
  const c = f32x4.splat(1e-6);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, b, c); a1 = madd(a1, b, c); a2 = madd(a2, b, c); a3 = madd(a3, b, c);
    a4 = madd(a4, b, c); a5 = madd(a5, b, c); a6 = madd(a6, b, c); a7 = madd(a7, b, c);
    a8 = madd(a8, b, c); a9 = madd(a9, b, c); a10 = madd(a10, b, c); a11 = madd(a11, b, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))), 0);
}
