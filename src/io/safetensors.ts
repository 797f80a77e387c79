// Reads and writes the safetensors format (Hugging Face's flat, zero-code tensor container) on
// plain bytes, so checkpoints work the same in Node and in a browser; file access lives in cli/.
// Layout: u64 LE header length N, N bytes of JSON header (space-padded to a multiple of 8),
// then the data buffer with every tensor row-major and little-endian.

import { DTYPE_SIZE, SafetensorsError, type SafetensorsData, type SafetensorsDType } from './safetensors-dtype.ts';
import { parseHeader } from './safetensors-header.ts';
import { readElements, writeElements } from './safetensors-elements.ts';

export { SafetensorsError, DTYPE_SIZE, type SafetensorsDType, type SafetensorsData } from './safetensors-dtype.ts';
export { MAX_HEADER_BYTES } from './safetensors-header.ts';

/** A tensor to write: `data` holds product(shape) numbers in row-major order. */
export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** A tensor read back; see SafetensorsData for how each dtype is represented. */
export interface DecodedTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: SafetensorsData;
}

export interface DecodedSafetensors {
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

export interface SafetensorsOptions {
  /** Names the file in error messages, e.g. 'run/ckpt.safetensors'. */
  source?: string;
}

/**
 * Serializes tensors (laid out in sorted-name order, so equal inputs give identical bytes) and
 * optional string metadata. Integer dtypes reject non-integers and out-of-range values; F16/BF16
 * round to nearest even.
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, SafetensorsTensor>>,
  metadata?: Readonly<Record<string, string>>,
  options: SafetensorsOptions = {},
): Uint8Array {
  const who = label(options);
  const names = Object.keys(tensors).sort(compareCodeUnits);
  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`${who}: metadata '${k}' is ${typeof v}; safetensors metadata values must be strings — use String(value) or JSON.stringify`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const ranges: number[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsError(`${who}: '__metadata__' is reserved by the format and cannot name a tensor; rename it`);
    const { dtype, shape, data } = tensors[name];
    const count = checkTensor(who, name, dtype, shape, data);
    const end = offset + count * DTYPE_SIZE[dtype];
    // Built by hand rather than by JSON.stringify on an object, which would move integer-like names first.
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, end] })}`);
    ranges.push(offset, end);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8; // keeps the data buffer 8-byte aligned in the file
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  const dataStart = 8 + headerLen;
  names.forEach((name, i) => {
    const dst = out.subarray(dataStart + ranges[2 * i], dataStart + ranges[2 * i + 1]);
    writeElements(tensors[name].dtype, tensors[name].data, dst, `${who}: tensor '${name}'`);
  });
  return out;
}

/** Parses and fully validates the header first (see safetensors-header.ts), then copies out each tensor. */
export function decodeSafetensors(bytes: Uint8Array, options: SafetensorsOptions = {}): DecodedSafetensors {
  const who = label(options);
  const { entries, metadata, dataStart } = parseHeader(bytes, who);
  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const src = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    const count = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: readElements(e.dtype, src, count, `${who}: tensor '${e.name}'`) });
  }
  return { tensors, metadata };
}

function checkTensor(who: string, name: string, dtype: string, shape: readonly number[], data: ArrayLike<number>): number {
  const t = `${who}: tensor '${name}'`;
  if (!Object.hasOwn(DTYPE_SIZE, dtype)) {
    throw new SafetensorsError(`${t} has dtype '${dtype}'; choose one of ${Object.keys(DTYPE_SIZE).join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`${t} has shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new SafetensorsError(`${t} has shape [${shape.join(', ')}] (${count} elements) but its data holds ${data.length}; pass data of exactly product(shape) elements`);
  }
  return count;
}

function label(options: SafetensorsOptions): string {
  return options.source === undefined ? 'safetensors' : `safetensors file '${options.source}'`;
}

/** Plain UTF-16 order: locale-independent, so the byte layout never depends on the machine. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
