// Converts one tensor's little-endian bytes to a typed array and back, per dtype. Reads always
// copy into a fresh, aligned array: offsets in a safetensors file need not be multiples of the
// element size, and a view would pin the whole file's buffer in memory.

import { SafetensorsError, type SafetensorsData, type SafetensorsDType } from './safetensors-dtype.ts';
import { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half.ts';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

type Ctor = { new (n: number): SafetensorsData; readonly BYTES_PER_ELEMENT: number };

/** Dtypes whose bytes are exactly a JS typed array's on a little-endian host: a plain copy suffices. */
const SAME_LAYOUT: Partial<Record<SafetensorsDType, Ctor>> = {
  F64: Float64Array,
  F32: Float32Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

/** Integer ranges checked on write, so a value never wraps silently. */
const INT_RANGE: Partial<Record<SafetensorsDType, [number, number]>> = {
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U32: [0, 2 ** 32 - 1],
  U16: [0, 2 ** 16 - 1],
  U8: [0, 255],
  BOOL: [0, 1],
};

/** Decodes `count` elements of `dtype` from `src` (exactly count · size bytes). */
export function readElements(dtype: SafetensorsDType, src: Uint8Array, count: number, what: string): SafetensorsData {
  const ctor = SAME_LAYOUT[dtype];
  if (ctor && (LITTLE_ENDIAN_HOST || ctor.BYTES_PER_ELEMENT === 1)) {
    const out = new ctor(count);
    new Uint8Array(out.buffer).set(src);
    if (dtype === 'BOOL') checkBool(out as Uint8Array, what);
    return out;
  }
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (dtype) {
    case 'F16':
    case 'BF16': {
      const out = new Float32Array(count);
      const widen = dtype === 'F16' ? float16BitsToNumber : bfloat16BitsToNumber;
      for (let i = 0; i < count; i++) out[i] = widen(view.getUint16(2 * i, true));
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw new SafetensorsError(
            `${what}: element ${i} is ${v}, outside the int32 range resnorm stores I64 tensors in; re-export the tensor as I32 or F32`,
          );
        }
        out[i] = Number(v);
      }
      return out;
    }
    default:
      return readBigEndianHost(dtype, view, count);
  }
}

/** Encodes `data` as `dtype` into `dst` (exactly data.length · size bytes). */
export function writeElements(dtype: SafetensorsDType, data: ArrayLike<number>, dst: Uint8Array, what: string): void {
  const range = INT_RANGE[dtype];
  if (range) checkIntegers(data, range, dtype, what);
  const ctor = SAME_LAYOUT[dtype];
  if (ctor && (LITTLE_ENDIAN_HOST || ctor.BYTES_PER_ELEMENT === 1)) {
    let src: SafetensorsData;
    if (data instanceof ctor) src = data;
    else {
      src = new ctor(data.length);
      for (let i = 0; i < data.length; i++) src[i] = data[i];
    }
    dst.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    return;
  }
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const n = data.length;
  switch (dtype) {
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, numberToFloat16Bits(data[i]), true);
      return;
    case 'BF16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, numberToBfloat16Bits(data[i]), true);
      return;
    case 'I64':
      for (let i = 0; i < n; i++) view.setBigInt64(8 * i, BigInt(data[i]), true);
      return;
    default:
      writeBigEndianHost(dtype, data, view);
  }
}

function checkIntegers(data: ArrayLike<number>, [lo, hi]: [number, number], dtype: SafetensorsDType, what: string): void {
  if (data instanceof Int32Array && lo <= -(2 ** 31) && hi >= 2 ** 31 - 1) return;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new SafetensorsError(`${what}: element ${i} is ${v}, not an integer in [${lo}, ${hi}] as ${dtype} requires; convert the data or choose another dtype`);
    }
  }
}

function checkBool(data: Uint8Array, what: string): void {
  const i = data.findIndex((v) => v > 1);
  if (i >= 0) throw new SafetensorsError(`${what}: BOOL element ${i} is the byte ${data[i]}, not 0 or 1; the file is corrupt — re-export it`);
}

// Big-endian hosts are rare (no current browser runs on one) but cost only these two loops.
function readBigEndianHost(dtype: SafetensorsDType, view: DataView, count: number): SafetensorsData {
  const ctor = SAME_LAYOUT[dtype]!;
  const out = new ctor(count);
  const size = ctor.BYTES_PER_ELEMENT;
  for (let i = 0; i < count; i++) out[i] = getLE(dtype, view, i * size);
  if (dtype === 'BOOL') checkBool(out as Uint8Array, 'BOOL tensor');
  return out;
}

function writeBigEndianHost(dtype: SafetensorsDType, data: ArrayLike<number>, view: DataView): void {
  const size = SAME_LAYOUT[dtype]!.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) setLE(dtype, view, i * size, data[i]);
}

function getLE(dtype: SafetensorsDType, v: DataView, o: number): number {
  switch (dtype) {
    case 'F64': return v.getFloat64(o, true);
    case 'F32': return v.getFloat32(o, true);
    case 'I32': return v.getInt32(o, true);
    case 'I16': return v.getInt16(o, true);
    case 'U32': return v.getUint32(o, true);
    case 'U16': return v.getUint16(o, true);
    case 'I8': return v.getInt8(o);
    default: return v.getUint8(o);
  }
}

function setLE(dtype: SafetensorsDType, v: DataView, o: number, x: number): void {
  switch (dtype) {
    case 'F64': return v.setFloat64(o, x, true);
    case 'F32': return v.setFloat32(o, x, true);
    case 'I32': return v.setInt32(o, x, true);
    case 'I16': return v.setInt16(o, x, true);
    case 'U32': return v.setUint32(o, x, true);
    case 'U16': return v.setUint16(o, x, true);
    case 'I8': return v.setInt8(o, x);
    default: return v.setUint8(o, x);
  }
}
