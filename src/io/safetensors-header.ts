// Reads and validates a safetensors header — every length, dtype, shape and byte range — before
// any tensor data is touched, so a corrupt or hostile file fails with a precise message instead
// of yielding garbage tensors or an out-of-bounds read (format: github.com/huggingface/safetensors).

import { previewJSON as preview } from './json-preview.ts';
import {
  DTYPE_SIZE,
  READABLE_DTYPES,
  SafetensorsError,
  isSafetensorsDType,
  isUnsupportedDType,
  type SafetensorsDType,
} from './safetensors-dtype.ts';

/** Far above any real header (GPT-2 XL's is ~50 KB); stops a corrupt length from allocating gigabytes. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data buffer. */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** Absolute offset of the data buffer in the file: 8 + header length. */
  dataStart: number;
}

const CORRUPT = 'the file is corrupt or truncated — re-export or re-download it';

/** `who` prefixes every message, e.g. "safetensors" or "safetensors file 'run/ckpt.safetensors'". */
export function parseHeader(bytes: Uint8Array, who: string): ParsedHeader {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${who}: ${msg}`);
  };
  if (bytes.length < 8) {
    fail(`the file is ${bytes.length} bytes, shorter than the 8-byte header length that starts every safetensors file; ${CORRUPT}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_HEADER_BYTES) {
    fail(`the header length field says ${headerLen} bytes, above the ${MAX_HEADER_BYTES}-byte limit; this is not a safetensors file or ${CORRUPT}`);
  }
  if (headerLen > bytes.length - 8) {
    fail(`the header length field says ${headerLen} bytes but only ${bytes.length - 8} bytes follow it; ${CORRUPT}`);
  }
  const dataStart = 8 + headerLen;
  const bufferLen = bytes.length - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return fail(`the ${headerLen}-byte header is not valid UTF-8; ${CORRUPT}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message}); ${CORRUPT}`);
  }
  if (!isPlainObject(json)) {
    return fail(`the header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}, found ${describe(json)}; ${CORRUPT}`);
  }

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(name, value, bufferLen, fail));
  }
  checkNoOverlap(entries, fail);
  return { entries, metadata, dataStart };
}

function parseMetadata(value: unknown, fail: (msg: string) => never): Record<string, string> {
  if (!isPlainObject(value)) {
    return fail(`__metadata__ must be an object of string values, found ${describe(value)}; ${CORRUPT}`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__ key '${k}' must be a string, found ${describe(v)}; ${CORRUPT}`);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function parseEntry(name: string, value: unknown, bufferLen: number, fail: (msg: string) => never): HeaderEntry {
  const t = `tensor '${name}'`;
  if (!isPlainObject(value)) return fail(`${t} must be an object {dtype, shape, data_offsets}, found ${describe(value)}; ${CORRUPT}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') return fail(`${t} has no string 'dtype' (found ${describe(dtype)}); ${CORRUPT}`);
  if (!isSafetensorsDType(dtype)) {
    const why = isUnsupportedDType(dtype) ? 'a safetensors dtype resnorm does not read' : 'not a safetensors dtype';
    return fail(`${t} has dtype '${dtype}', ${why}; resnorm reads ${READABLE_DTYPES.join(', ')} — convert the tensor to one of them (e.g. F32)`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    return fail(`${t} has shape ${preview(shape)}; a shape must be a list of non-negative integers; ${CORRUPT}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
    return fail(`${t} has data_offsets ${preview(offsets)}; they must be [begin, end], two non-negative integers; ${CORRUPT}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) return fail(`${t} has data_offsets [${begin}, ${end}] with begin after end; ${CORRUPT}`);
  if (end > bufferLen) {
    return fail(`${t} claims bytes [${begin}, ${end}) but the data buffer after the header is only ${bufferLen} bytes; ${CORRUPT}`);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const needed = count * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(needed) || needed !== end - begin) {
    return fail(
      `${t} claims bytes [${begin}, ${end}) (${end - begin} bytes) but its shape [${shape.join(', ')}] of ${dtype} needs ${needed} bytes; ${CORRUPT}`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** Two tensors sharing bytes would alias silently; empty tensors occupy no bytes and cannot collide. */
function checkNoOverlap(entries: HeaderEntry[], fail: (msg: string) => never): void {
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      fail(
        `tensors '${prev.name}' [${prev.begin}, ${prev.end}) and '${cur.name}' [${cur.begin}, ${cur.end}) overlap in the data buffer; ${CORRUPT}`,
      );
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
