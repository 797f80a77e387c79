// Conversions between float32 values and the 16-bit float formats safetensors files often hold
// (IEEE binary16 "F16" and bfloat16 "BF16"). JavaScript has no native 16-bit float array, so
// reading either widens to float32 and writing rounds to nearest, ties to even.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits → the number they encode (exactly representable in float32). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A number → IEEE binary16 bits, rounded (via float32) to nearest, ties to even; overflow gives ±Infinity. */
export function numberToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity, or a quiet NaN
  const e = exp - 127 + 15; // the rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal in binary16: the value is m · 2^-24 with m < 1024.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(full, shift); // a carry to 1024 lands on the smallest normal, as it should
  }
  // A carry out of the mantissa bumps the exponent, and from 30 to 31 it gives Infinity: both correct.
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** bfloat16 bits → the number they encode: they are the top half of a float32. */
export function bfloat16BitsToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** A number → bfloat16 bits, rounded (via float32) to nearest, ties to even; NaN stays a (quiet) NaN. */
export function numberToBfloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** `value >> shift` rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}
