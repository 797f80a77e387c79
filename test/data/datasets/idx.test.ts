// idx: the IDX header parser and every error it gives, and the train/validation/test sets built
// from four synthetic files.
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../../src/data/datasets/dataset-error.ts';
import { type IdxFiles, idxDataset, parseIdx, parseIdxSet } from '../../../src/data/datasets/idx.ts';
import { idxBytes, imageFiles } from './idx-fixtures.ts';

describe('parseIdx', () => {
  it('reads the big-endian dims and gives a view of the data', () => {
    const b = idxBytes([2, 3, 4]);
    const a = parseIdx(b, 'x', 3);
    expect(a.dims).toEqual([2, 3, 4]);
    expect(a.data.length).toBe(24);
    expect(a.data.buffer).toBe(b.buffer);
    expect(Array.from(parseIdx(idxBytes([3], [7, 8, 9]), 'l', 1).data)).toEqual([7, 8, 9]);
  });
  it('says what is wrong with a corrupt, truncated or foreign file', () => {
    const err = (b: Uint8Array, ndim: 1 | 3 = 3) => () => parseIdx(b, 'f', ndim);
    expect(err(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toThrow('f is gzip-compressed; decompress it first (gunzip), or let the loader do it');
    expect(err(Uint8Array.from([0, 0, 8]))).toThrow('f is truncated: 3 bytes, not even the 4-byte IDX magic number');
    expect(err(new TextEncoder().encode('P5\n28 28\n255\n'))).toThrow('f is not an IDX file: its magic number is 0x50350A32, expected 0x00000803 for images (N, rows, cols)');
    expect(err(idxBytes([2, 2, 2], undefined, 0x0d))).toThrow('f holds float32 values (type byte 0x0d); MNIST-format files hold unsigned bytes (0x08)');
    expect(err(idxBytes([5]))).toThrow('f has magic number 0x00000801 (a labels file); expected 0x00000803 for images (N, rows, cols)');
    expect(err(idxBytes([2, 2, 2]), 1)).toThrow('f has magic number 0x00000803 (an images file); expected 0x00000801 for labels (N)');
    expect(err(idxBytes([2, 2]))).toThrow('f has magic number 0x00000802 (a 2-dimensional array); expected 0x00000803');
    expect(err(idxBytes([60000, 28, 28], []).subarray(0, 12))).toThrow('f is truncated: 12 bytes, shorter than its 16-byte header');
    expect(err(idxBytes([60000, 28, 28], new Uint8Array(1000)))).toThrow(
      'f is truncated: its header says 60,000 × 28 × 28 = 47,040,000 bytes of data, but only 1,000 follow the 16-byte header; download it again',
    );
    expect(err(idxBytes([2, 2, 2], new Array(9).fill(0)))).toThrow('f is corrupt: its header says 2 × 2 × 2 = 8 bytes of data, but 9 follow the 16-byte header');
    expect(err(Uint8Array.from([0, 0, 8]))).toThrow(DatasetError);
  });
});

describe('parseIdxSet', () => {
  const { images, labels } = imageFiles(50);
  it('pairs images with labels', () => {
    const s = parseIdxSet({ name: 'im', bytes: images }, { name: 'lb', bytes: labels });
    expect([s.count, s.rows, s.cols, s.pixels.length, s.labels.length]).toEqual([50, 28, 28, 50 * 784, 50]);
    expect(s.labels[13]).toBe(3);
  });
  it('refuses images of the wrong size, mismatched counts, empty sets and labels out of range', () => {
    const small = imageFiles(50, 32, 32);
    expect(() => parseIdxSet({ name: 'im', bytes: small.images }, { name: 'lb', bytes: labels })).toThrow('im holds 32×32 images, but the model expects 28×28');
    expect(() => parseIdxSet({ name: 'im', bytes: small.images }, { name: 'lb', bytes: labels }, { rows: 32, cols: 32 })).not.toThrow();
    expect(() => parseIdxSet({ name: 'im', bytes: images }, { name: 'lb', bytes: idxBytes([49]) })).toThrow(
      'im holds 50 images but lb holds 49 labels; they must come from the same set',
    );
    expect(() => parseIdxSet({ name: 'im', bytes: idxBytes([0, 28, 28]) }, { name: 'lb', bytes: idxBytes([0]) })).toThrow('im holds no images');
    expect(() => parseIdxSet({ name: 'im', bytes: idxBytes([2, 28, 28]) }, { name: 'lb', bytes: idxBytes([2], [3, 12]) })).toThrow(
      'lb: label 12 of image 1 is out of range for 10 classes (0 to 9)',
    );
  });
});

describe('idxDataset', () => {
  const tr = imageFiles(2000);
  const te = imageFiles(300);
  const files: IdxFiles = {
    trainImages: { name: 'train-images', bytes: tr.images },
    trainLabels: { name: 'train-labels', bytes: tr.labels },
    testImages: { name: 't10k-images', bytes: te.images },
    testLabels: { name: 't10k-labels', bytes: te.labels },
  };
  const firstPixels = (s: { count: number; pixels: Uint8Array }) => Array.from({ length: s.count }, (_, i) => s.pixels[i * 784] + 256 * s.pixels[i * 784 + 1]);

  it('holds about 10% of the training file out for validation, disjointly, and keeps the test file whole', () => {
    const d = idxDataset(files);
    expect(d.train.count + d.val.count).toBe(2000);
    expect(d.val.count).toBeGreaterThan(150);
    expect(d.val.count).toBeLessThan(250);
    expect(d.test.count).toBe(300);
    const ids = [...firstPixels(d.train), ...firstPixels(d.val)];
    expect(new Set(ids).size).toBe(2000);
    expect(firstPixels(d.val).every((i, k) => d.val.labels[k] === i % 10)).toBe(true); // labels travel with their image
    expect(d.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
  it('gives an image the same split wherever it sits in the file', () => {
    const a = new Set(firstPixels(idxDataset(files).val));
    const shifted = imageFiles(2100); // 100 more images at the end
    const b = idxDataset({ ...files, trainImages: { name: 'x', bytes: shifted.images }, trainLabels: { name: 'y', bytes: shifted.labels } });
    expect(firstPixels(b.val).filter((i) => i < 2000)).toEqual([...a]);
  });
  it('refuses a bad validation fraction', () => {
    expect(() => idxDataset(files, { valFraction: 1 })).toThrow('the validation fraction is 1; it must be in [0, 1), e.g. 0.1');
  });
});
