// The safetensors element types resnorm reads and writes, their sizes, and the typed arrays they
// decode to. One table, so the header validator, the reader and the writer cannot disagree.

/** Element types resnorm understands (a subset of the format's; see READABLE_DTYPES). */
export type SafetensorsDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/**
 * What a decoded tensor's data is. Formats JavaScript has no array for are widened:
 * F16 and BF16 → Float32Array; I64 → Int32Array (range-checked); BOOL → Uint8Array of 0/1.
 */
export type SafetensorsData =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

/** Bytes per element of every dtype resnorm reads. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export const READABLE_DTYPES = Object.keys(DTYPE_SIZE) as SafetensorsDType[];

/** Valid in the format but not read by resnorm: named so the error can say so rather than "unknown". */
const UNSUPPORTED_DTYPES = new Set(['U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

export function isSafetensorsDType(s: string): s is SafetensorsDType {
  return Object.hasOwn(DTYPE_SIZE, s);
}

export function isUnsupportedDType(s: string): boolean {
  return UNSUPPORTED_DTYPES.has(s);
}

/** One thrown for every malformed file or unwritable input: callers can catch exactly this. */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}
