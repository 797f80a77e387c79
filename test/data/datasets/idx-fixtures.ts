// Synthetic IDX files for the idx and dataset-files tests.

/** An IDX file: magic 0x0000 08 ndim, big-endian dims, then `data` (or the right number of bytes). */
export function idxBytes(dims: number[], data?: ArrayLike<number>, type = 0x08): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + (data ? data.length : size));
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  out.set(data ?? Array.from({ length: size }, (_, i) => (i * 37) % 256), 4 + 4 * dims.length);
  return out;
}

/** n distinct r×c images (image i has pixel 0 = i % 256, pixel 1 = i >> 8) and labels i % 10. */
export function imageFiles(n: number, r = 28, c = 28): { images: Uint8Array; labels: Uint8Array } {
  const px = new Uint8Array(n * r * c);
  for (let i = 0; i < n; i++) {
    px[i * r * c] = i % 256;
    px[i * r * c + 1] = i >> 8;
  }
  return { images: idxBytes([n, r, c], px), labels: idxBytes([n], Array.from({ length: n }, (_, i) => i % 10)) };
}
