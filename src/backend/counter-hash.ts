// Counter-based uniform numbers for dropout: u = hashUniform(seed, index) depends only on its two
// integers, so every backend (TypeScript, WebAssembly, GPU) and every thread count draws one mask.
//
// The exact recipe, in 32-bit unsigned integer arithmetic (wrapping multiplication, as Math.imul
// and wasm's i32.mul), so another backend can reproduce it bit for bit:
//   fmix32(h)  = murmur3's finalizer: h ^= h >>> 16; h *= 0x85EBCA6B; h ^= h >>> 13;
//                h *= 0xC2B2AE35; h ^= h >>> 16
//   s          = fmix32(seed ^ 0x6A09E667)          (the seed whitened once, so seed 0 is not special)
//   h          = fmix32((index * 0x9E3779B1) ^ s)   (Weyl step by the golden ratio, then mixed)
//   u          = (h >>> 8) / 2^24                   (top 24 bits: exact in float32 and float64)
// seed and index are taken modulo 2^32.

/** Murmur3's 32-bit finalizer (Appleby, MurmurHash3 `fmix32`): a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed's whitened form; a backend may compute it once per kernel call. */
export function mixSeed(seed: number): number {
  return fmix32((seed ^ 0x6a09e667) >>> 0);
}

/** A uniform number in [0, 1) with 24 random bits, determined by (seed, index) alone. */
export function hashUniform(seed: number, index: number): number {
  return hashUniformMixed(mixSeed(seed), index);
}

/** hashUniform with the seed already passed through mixSeed (the per-element hot path). */
export function hashUniformMixed(mixedSeed: number, index: number): number {
  const h = fmix32((Math.imul(index, 0x9e3779b1) ^ mixedSeed) >>> 0);
  return (h >>> 8) / 16777216;
}
