// Softmax, log-softmax over the last axis, and cross-entropy fused with log-softmax
// (logsumexp(z) − z[target], mean over targets that are not the ignore index, as in PyTorch).

import { record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkInputs, checkSameBackend } from './common.ts';
import { crossEntropyComposed, logSoftmaxComposed, softmaxComposed } from './composed.ts';

function lastAxisOp(kind: 'softmax' | 'logSoftmax', x: Tensor): Tensor {
  checkInputs(kind, x);
  if (x.rank < 1) throw new ShapeError(`${kind}: input must have at least one dimension`);
  const C = x.shape[x.rank - 1];
  const rows = x.size / C;
  const be = x.backend;
  const fwd = kind === 'softmax' ? be.softmaxForward : be.logSoftmaxForward;
  const bwd = kind === 'softmax' ? be.softmaxBackward : be.logSoftmaxBackward;
  if (!fwd || !bwd) return kind === 'softmax' ? softmaxComposed(x) : logSoftmaxComposed(x);
  const out = allocOut(x, x.shape);
  fwd.call(be, x.storage, out.storage, rows, C);
  return record(out, kind, [x], (g) => {
    const dx = allocOut(x, x.shape);
    bwd.call(be, out.storage, g.storage, dx.storage, rows, C);
    return [dx];
  });
}

export const softmax = (x: Tensor): Tensor => lastAxisOp('softmax', x);
export const logSoftmax = (x: Tensor): Tensor => lastAxisOp('logSoftmax', x);

export const IGNORE_INDEX = -100;

/**
 * Mean cross-entropy of logits (..., V) against int32 targets (...); returns a scalar.
 * Targets equal to ignoreIndex do not count; out-of-range targets are an error.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex = IGNORE_INDEX): Tensor {
  checkInputs('crossEntropy', logits);
  checkSameBackend('crossEntropy', logits, targets);
  if (targets.dtype !== 'int32') throw new ShapeError(`crossEntropy: targets must be int32, got ${targets.dtype}`);
  const V = logits.shape[logits.rank - 1];
  const rows = logits.size / V;
  if (logits.rank < 1 || targets.size !== rows || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new ShapeError(`crossEntropy: logits ${fmt(logits.shape)} need targets of shape ${fmt(logits.shape.slice(0, -1))}, got ${fmt(targets.shape)}`);
  }
  // Targets are checked against V (and ignoreIndex) by the backend's kernel, as embedding ids are.
  const be = logits.backend;
  if (!be.crossEntropyForward || !be.crossEntropyBackward) return crossEntropyComposed(logits, targets, ignoreIndex);
  const loss = allocOut(logits, []);
  const lse = allocOut(logits, [rows]);
  be.crossEntropyForward(logits.storage, targets.storage, loss.storage, lse.storage, rows, V, ignoreIndex);
  return record(loss, 'crossEntropy', [logits], (g) => {
    const dlogits = allocOut(logits, logits.shape);
    be.crossEntropyBackward!(logits.storage, targets.storage, lse.storage, g.storage, dlogits.storage, rows, V, ignoreIndex);
    return [dlogits];
  });
}
