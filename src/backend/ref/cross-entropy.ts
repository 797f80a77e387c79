// Mean cross-entropy over logits (rows × V) and int32 targets for the reference backend, PyTorch
// semantics: loss = mean over non-ignored rows of logsumexp(z) − z[target].
import type { FloatArray } from './storage.ts';
import { rowLogSumExp } from './softmax.ts';

function checkTarget(t: number, row: number, V: number, ignoreIndex: number): void {
  if (t !== ignoreIndex && (t < 0 || t >= V)) {
    throw new Error(`Cross-entropy target ${t} at row ${row} is outside [0, ${V}) and is not the ignore index ${ignoreIndex}.`);
  }
}

/** Rows whose target is not the ignore index: the mean's denominator. */
function countTargets(targets: Int32Array, rows: number, ignoreIndex: number): number {
  let count = 0;
  for (let r = 0; r < rows; r++) if (targets[r] !== ignoreIndex) count++;
  return count;
}

export function crossEntropyForward(
  logits: FloatArray,
  targets: Int32Array,
  loss: FloatArray,
  lse: FloatArray,
  rows: number,
  V: number,
  ignoreIndex: number,
): void {
  let total = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    const l = rowLogSumExp(logits, o, V);
    lse[r] = l;
    const t = targets[r];
    checkTarget(t, r, V, ignoreIndex);
    if (t === ignoreIndex) continue;
    total += l - logits[o + t];
    count++;
  }
  // PyTorch returns NaN for an all-ignored batch; the contract asks for 0 so a padded batch is harmless.
  loss[0] = count > 0 ? total / count : 0;
}

/** dlogits = dloss·(softmax − onehot)/count, with softmax = exp(z − lse) from the saved lse. */
export function crossEntropyBackward(
  logits: FloatArray,
  targets: Int32Array,
  lse: FloatArray,
  dloss: FloatArray,
  dlogits: FloatArray,
  rows: number,
  V: number,
  ignoreIndex: number,
): void {
  const count = countTargets(targets, rows, ignoreIndex);
  const scale = count > 0 ? dloss[0] / count : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    const t = targets[r];
    checkTarget(t, r, V, ignoreIndex);
    if (t === ignoreIndex) {
      for (let c = 0; c < V; c++) dlogits[o + c] = 0;
      continue;
    }
    const l = lse[r];
    for (let c = 0; c < V; c++) {
      const p = Math.exp(logits[o + c] - l);
      dlogits[o + c] = scale * (c === t ? p - 1 : p);
    }
  }
}
