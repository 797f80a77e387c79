// TensorBoard's Event, Summary and HistogramProto messages (proto/tensorboard/*.proto), encoded as
// protocol buffers by hand. Three small messages of doubles, floats, varints and strings do not earn a
// protobuf dependency and its generated code; docs/tensorboard.md says more, and the test decodes what
// this writes with Google's own protobuf runtime.

/** "brain.Event:2" is what TensorBoard's own writers put in the first event of every file. */
export const FILE_VERSION = 'brain.Event:2';

export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edge of each bucket, ascending (see histogramOf for which values a bucket counts). */
  bucketLimit: number[];
  /** Count of each bucket. */
  bucket: number[];
}

export type SummaryValue = { tag: string; simpleValue: number } | { tag: string; histo: Histogram };

export interface TbEvent {
  /** Unix seconds. */
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: SummaryValue[];
}

// Wire types (protobuf encoding guide): 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const encoder = new TextEncoder();

/** Appends fields in the order they are written; proto3 omits fields at their default unless `always`. */
class ProtoWriter {
  private bytes: number[] = [];
  private scratch = new DataView(new ArrayBuffer(8));

  private varint(n: number): void {
    // Non-negative integers up to 2^53: division, because bit operators would cut them to 32 bits.
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a protobuf varint must be a non-negative safe integer, got ${n}`);
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint64(field: number, n: number): void {
    if (n === 0) return;
    this.key(field, VARINT);
    this.varint(n);
  }

  double(field: number, x: number): void {
    if (x === 0) return;
    this.key(field, I64);
    this.scratch.setFloat64(0, x, true);
    for (let i = 0; i < 8; i++) this.bytes.push(this.scratch.getUint8(i));
  }

  /** float32 (rounded from the double); a member of a oneof, so written even when 0. */
  float(field: number, x: number): void {
    this.key(field, I32);
    this.scratch.setFloat32(0, x, true);
    for (let i = 0; i < 4; i++) this.bytes.push(this.scratch.getUint8(i));
  }

  bytesField(field: number, data: Uint8Array): void {
    this.key(field, LEN);
    this.varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
  }

  string(field: number, s: string): void {
    this.bytesField(field, encoder.encode(s));
  }

  /** repeated double, packed (proto3's default encoding for repeated scalars). */
  packedDoubles(field: number, xs: readonly number[]): void {
    if (xs.length === 0) return;
    const w = new ProtoWriter();
    for (const x of xs) {
      w.scratch.setFloat64(0, x, true);
      for (let i = 0; i < 8; i++) w.bytes.push(w.scratch.getUint8(i));
    }
    this.bytesField(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

// Field numbers from proto/tensorboard/histogram.proto.
function encodeHistogram(h: Histogram): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, h.min);
  w.double(2, h.max);
  w.double(3, h.num);
  w.double(4, h.sum);
  w.double(5, h.sumSquares);
  w.packedDoubles(6, h.bucketLimit);
  w.packedDoubles(7, h.bucket);
  return w.finish();
}

// Summary.Value: tag = 1, and the oneof value: simple_value = 2 (float), histo = 5.
function encodeValue(v: SummaryValue): Uint8Array {
  const w = new ProtoWriter();
  if (v.tag !== '') w.string(1, v.tag);
  if ('simpleValue' in v) w.float(2, v.simpleValue);
  else w.bytesField(5, encodeHistogram(v.histo));
  return w.finish();
}

/** One Event message: wall_time = 1 (double), step = 2 (int64), and the oneof file_version = 3 or summary = 5. */
export function encodeEvent(e: TbEvent): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, e.wallTime);
  w.uint64(2, e.step);
  if (e.fileVersion !== undefined) {
    w.string(3, e.fileVersion);
  } else if (e.summary !== undefined) {
    const s = new ProtoWriter();
    for (const v of e.summary) s.bytesField(1, encodeValue(v)); // Summary: repeated Value value = 1
    w.bytesField(5, s.finish());
  }
  return w.finish();
}

/** TensorBoard's default bucket count for histograms (tensorboard/plugins/histogram/summary_v2.py). */
export const HISTOGRAM_BUCKETS = 30;

/**
 * A histogram of `values` in `buckets` equal-width buckets from their min to their max, as
 * TensorBoard's own histogram summary makes them. Bucket i counts the values in
 * [bucketLimit[i-1], bucketLimit[i]) (TensorFlow's histogram.cc bins by upper_bound), the last one
 * also its right edge, the max; TensorBoard draws the min and max as the outer edges. Null for no values.
 */
export function histogramOf(values: readonly number[], buckets = HISTOGRAM_BUCKETS): Histogram | null {
  if (values.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sumSquares += v * v;
  }
  const stats = { min, max, num: values.length, sum, sumSquares };
  if (max === min) return { ...stats, bucketLimit: [max], bucket: [values.length] };
  const width = (max - min) / buckets;
  // The last edge is the max itself, not min + buckets·width, which rounding can put just below it.
  const bucketLimit = Array.from({ length: buckets }, (_, i) => (i === buckets - 1 ? max : min + (i + 1) * width));
  const bucket = new Array<number>(buckets).fill(0);
  // Binned against the edges as written (not by dividing by the width), so that a reader checking
  // each value against its bucket's edges agrees even where rounding puts a value on an edge.
  for (const v of values) {
    let i = 0;
    while (i < buckets - 1 && v >= bucketLimit[i]) i++;
    bucket[i]++;
  }
  return { ...stats, bucketLimit, bucket };
}
