// IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., yann.lecun.com/exdb/mnist):
// a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte), the number of
// dimensions, then each dimension as a uint32 — and the data. Labels are 0x00000801 (N),
// images 0x00000803 (N, rows, cols). Decompressing .gz files is cli/'s job; this reads bytes.

import { DatasetError } from './dataset-error.ts';
import { type SplitFractions, hashBytes, splitOfHash } from './hash-split.ts';
import type { ImageDataset, ImageSet } from './types.ts';

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;

const TYPE_NAMES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

const hex8 = (v: number) => `0x${(v >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
const fmt = (n: number) => n.toLocaleString('en-US');

export interface IdxArray {
  dims: number[];
  /** A view of the file's bytes after the header. */
  data: Uint8Array;
}

/** Parses an IDX file of unsigned bytes with `ndim` dimensions; `name` is the file, for messages. */
export function parseIdx(bytes: Uint8Array, name: string, ndim: 1 | 3): IdxArray {
  const want = ndim === 1 ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC;
  const kind = ndim === 1 ? 'labels (N)' : 'images (N, rows, cols)';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DatasetError(`${name} is gzip-compressed; decompress it first (gunzip), or let the loader do it`);
  }
  if (bytes.length < 4) throw new DatasetError(`${name} is truncated: ${bytes.length} bytes, not even the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(`${name} is not an IDX file: its magic number is ${hex8(magic)}, expected ${hex8(want)} for ${kind}`);
  }
  if (bytes[2] !== 0x08) {
    const t = TYPE_NAMES[bytes[2]] ?? 'an unknown type';
    throw new DatasetError(`${name} holds ${t} values (type byte 0x${bytes[2].toString(16).padStart(2, '0')}); MNIST-format files hold unsigned bytes (0x08)`);
  }
  if (magic !== want) {
    const what = bytes[3] === 1 ? 'a labels file' : bytes[3] === 3 ? 'an images file' : `a ${bytes[3]}-dimensional array`;
    throw new DatasetError(`${name} has magic number ${hex8(magic)} (${what}); expected ${hex8(want)} for ${kind}`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new DatasetError(`${name} is truncated: ${bytes.length} bytes, shorter than its ${headerBytes}-byte header`);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d));
  const size = dims.reduce((a, b) => a * b, 1); // ≤ 2^96 in principle; compared below as a double
  const have = bytes.length - headerBytes;
  const shape = dims.map(fmt).join(' × ');
  if (have < size) {
    throw new DatasetError(`${name} is truncated: its header says ${shape} = ${fmt(size)} bytes of data, but only ${fmt(have)} follow the ${headerBytes}-byte header; download it again`);
  }
  if (have > size) {
    throw new DatasetError(`${name} is corrupt: its header says ${shape} = ${fmt(size)} bytes of data, but ${fmt(have)} follow the ${headerBytes}-byte header`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

export interface IdxFile {
  name: string;
  bytes: Uint8Array;
}

/** The four files of MNIST's layout. */
export interface IdxFiles {
  trainImages: IdxFile;
  trainLabels: IdxFile;
  testImages: IdxFile;
  testLabels: IdxFile;
}

export interface IdxOptions {
  /** The image size the model takes; a file of another size is refused. Default 28 × 28. */
  rows?: number;
  cols?: number;
  /** Labels must be below this; default: the class names' count. */
  classNames?: readonly string[];
  /** Validation, held out of the training file (the test file is the official test set). Default 0.1. */
  valFraction?: number;
}

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
/** Xiao et al. 2017, Fashion-MNIST's README. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

/** Images and labels of one set (train or test), checked against each other and the model's size. */
export function parseIdxSet(images: IdxFile, labels: IdxFile, options: IdxOptions = {}): ImageSet {
  const rows = options.rows ?? 28;
  const cols = options.cols ?? 28;
  const nClasses = (options.classNames ?? MNIST_CLASSES).length;
  const im = parseIdx(images.bytes, images.name, 3);
  const lb = parseIdx(labels.bytes, labels.name, 1);
  const [n, r, c] = im.dims;
  if (r !== rows || c !== cols) {
    throw new DatasetError(`${images.name} holds ${r}×${c} images, but the model expects ${rows}×${cols}`);
  }
  if (lb.dims[0] !== n) {
    throw new DatasetError(`${images.name} holds ${fmt(n)} images but ${labels.name} holds ${fmt(lb.dims[0])} labels; they must come from the same set`);
  }
  if (n === 0) throw new DatasetError(`${images.name} holds no images`);
  for (let i = 0; i < n; i++) {
    if (lb.data[i] >= nClasses) {
      throw new DatasetError(`${labels.name}: label ${lb.data[i]} of image ${i} is out of range for ${nClasses} classes (0 to ${nClasses - 1})`);
    }
  }
  return { count: n, rows, cols, pixels: im.data.slice(), labels: lb.data.slice() };
}

function pick(set: ImageSet, which: Uint32Array): ImageSet {
  const size = set.rows * set.cols;
  const pixels = new Uint8Array(which.length * size);
  const labels = new Uint8Array(which.length);
  which.forEach((i, k) => {
    pixels.set(set.pixels.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = set.labels[i];
  });
  return { count: which.length, rows: set.rows, cols: set.cols, pixels, labels };
}

/**
 * Train, validation and test sets from the four files. Validation is taken out of the training
 * file by a hash of each image's pixels (so it depends on the image, not its position, and copies of
 * one image share a split); the test file stays the official test set, untouched.
 */
export function idxDataset(files: IdxFiles, options: IdxOptions = {}): ImageDataset {
  const valFraction = options.valFraction ?? 0.1;
  if (!(Number.isFinite(valFraction) && valFraction >= 0 && valFraction < 1)) {
    throw new DatasetError(`the validation fraction is ${valFraction}; it must be in [0, 1), e.g. 0.1`);
  }
  const full = parseIdxSet(files.trainImages, files.trainLabels, options);
  const test = parseIdxSet(files.testImages, files.testLabels, options);
  const size = full.rows * full.cols;
  const f: SplitFractions = { val: valFraction, test: 0 };
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  for (let i = 0; i < full.count; i++) {
    const s = splitOfHash(hashBytes(full.pixels.subarray(i * size, (i + 1) * size)), f);
    (s === 'val' ? valIdx : trainIdx).push(i);
  }
  if (trainIdx.length === 0) throw new DatasetError(`${files.trainImages.name}: no image is left for training with a validation fraction of ${valFraction}`);
  return {
    train: pick(full, Uint32Array.from(trainIdx)),
    val: pick(full, Uint32Array.from(valIdx)),
    test,
    classNames: [...(options.classNames ?? MNIST_CLASSES)],
  };
}
