// TFRecord framing, the container of TensorBoard event files: each record is
//   uint64 length | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data,
// all little-endian (tensorflow/core/lib/io/record_writer.cc). A reader checks both CRCs, so a torn or
// damaged record is detected rather than misread.

import { maskedCrc32c } from './crc32c.ts';

export const RECORD_OVERHEAD = 16;

export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + RECORD_OVERHEAD);
  const view = new DataView(out.buffer);
  // A record never nears 2^32 bytes here; the high word of the uint64 length stays 0.
  view.setUint32(0, data.length, true);
  view.setUint32(4, 0, true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Several records framed back to back, as one append. */
export function tfRecords(records: readonly Uint8Array[]): Uint8Array {
  const framed = records.map(tfRecord);
  const out = new Uint8Array(framed.reduce((n, r) => n + r.length, 0));
  let off = 0;
  for (const r of framed) {
    out.set(r, off);
    off += r.length;
  }
  return out;
}
