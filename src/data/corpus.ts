// Turns a tokenized corpus into training batches, as nanoGPT's get_batch does: a train/val split
// by position, and B random windows of T + 1 tokens whose inputs x predict the shifted targets y.

/** A seeded generator (preferred: uniform 32-bit words), or a function giving an integer in [0, n). */
export type BatchRng = { nextU32(): number } | ((n: number) => number);

export interface Batch {
  /** (B, T) row-major inputs. */
  x: Int32Array;
  /** (B, T) targets: y[b, t] = x[b, t + 1], the next token. */
  y: Int32Array;
}

/**
 * The first (1 − valFraction) of the ids for training, the rest for validation — split by
 * position, not shuffled, so validation text is text the model never saw. Views, not copies.
 */
export function splitTrainVal(ids: Int32Array, valFraction = 0.1): { train: Int32Array; val: Int32Array } {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new RangeError(`valFraction is ${valFraction}; it must be in [0, 1), e.g. 0.1 to keep the last 10% for validation`);
  }
  const nTrain = Math.floor(ids.length * (1 - valFraction)); // nanoGPT: int(n * 0.9)
  if (nTrain === 0 || (valFraction > 0 && nTrain === ids.length)) {
    throw new RangeError(
      `cannot split ${ids.length} tokens into train and validation parts with valFraction ${valFraction}: one part would be empty; use a longer text`,
    );
  }
  return { train: ids.subarray(0, nTrain), val: ids.subarray(nTrain) };
}

/**
 * B windows at uniformly random offsets in [0, n − T), nanoGPT style. `label` names the data in
 * errors ('training text', 'validation split').
 */
export function sampleBatch(data: Int32Array, B: number, T: number, rng: BatchRng, label = 'training text'): Batch {
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`batch size is ${B}; it must be a positive integer (--batch-size)`);
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`block_size is ${T}; it must be a positive integer (--block-size)`);
  const n = data.length;
  if (n < T + 1) {
    throw new RangeError(
      `The ${label} has ${n} tokens but block_size is ${T}: a batch needs at least block_size + 1 = ${T + 1} tokens (inputs plus the next-token targets); use a longer text or a smaller --block-size`,
    );
  }
  const range = n - T; // offsets 0 .. n − T − 1 all leave room for the shifted target
  const draw = typeof rng === 'function' ? rng : (k: number) => Math.floor((rng.nextU32() >>> 0) * (k / 4294967296));
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const i = draw(range);
    if (!Number.isInteger(i) || i < 0 || i >= range) {
      throw new RangeError(`the batch RNG returned ${i} for a draw in [0, ${range}); it must return an integer in that range`);
    }
    x.set(data.subarray(i, i + T), b * T);
    y.set(data.subarray(i + 1, i + 1 + T), b * T);
  }
  return { x, y };
}
