// Elementwise ops: broadcasting binary arithmetic, unary functions, and alpha·x + beta.

import type { BinaryOp, UnaryOp } from '../../backend/backend.ts';
import { record } from '../autograd.ts';
import { broadcastShapes, padShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkFloat, checkInputs } from './common.ts';
import { sumTo } from './layout.ts';

function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkInputs(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = allocOut(a, shape);
  a.backend.binary(op, a.storage, padShape(a.shape, shape.length), b.storage, padShape(b.shape, shape.length), out.storage, shape);
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('add', a, b);
  return record(out, 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('sub', a, b);
  return record(out, 'sub', [a, b], (g) => [sumTo(g, a.shape), b.requiresGrad ? neg(sumTo(g, b.shape)) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('mul', a, b);
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('div', a, b);
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    // d(a/b)/db = −a/b² = −out/b
    b.requiresGrad ? neg(sumTo(div(mul(g, out), b), b.shape)) : null,
  ]);
}

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  checkFloat(op, x);
  const out = allocOut(x, x.shape);
  x.backend.unary(op, x.storage, out.storage);
  return record(out, op, [x], (g) => {
    const dx = allocOut(x, x.shape);
    x.backend.unaryBackward(op, x.storage, g.storage, dx.storage);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);

export type GeluApproximation = 'none' | 'tanh';

/** GELU, exact (erf) by default as in torch.nn.GELU(); 'tanh' is GPT-2's approximation. */
export function gelu(x: Tensor, approximate: GeluApproximation = 'none'): Tensor {
  return unaryOp(approximate === 'tanh' ? 'gelu_tanh' : 'gelu', x);
}

/** alpha·x + beta. */
export function scale(x: Tensor, alpha: number, beta = 0): Tensor {
  checkFloat('scale', x);
  const out = allocOut(x, x.shape);
  x.backend.affine(x.storage, out.storage, alpha, beta);
  return record(out, 'scale', [x], (g) => [scale(g, alpha)]);
}
