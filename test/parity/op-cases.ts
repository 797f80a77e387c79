// Maps a fixture's op name and arguments to the engine's op, so the parity suite (against PyTorch)
// and the gradient-check suite (finite differences) exercise exactly the same front-end calls.

import * as F from '../../src/tensor/index.ts';
import type { Tensor } from '../../src/tensor/index.ts';

export type Inputs = Record<string, Tensor>;
export type Args = Record<string, unknown>;

/** Names of the inputs that are integer ids (never differentiated). */
export const INT_INPUTS = new Set(['ids', 'targets']);

/** Float inputs that are data, not differentiated: attention's key mask (B, Tk), 1 real, 0 padding. */
export const DATA_INPUTS = new Set(['key_mask']);

const axesOf = (args: Args): number[] | undefined => {
  const axes = args.axes as number[];
  return axes.length === 0 ? undefined : axes;
};

export function runOp(op: string, x: Inputs, args: Args): Tensor {
  switch (op) {
    case 'matmul':
      return F.matmul(x.a, x.b);
    case 'linear':
      return F.linear(x.x, x.weight, x.bias ?? null);
    case 'add':
      return F.add(x.a, x.b);
    case 'sub':
      return F.sub(x.a, x.b);
    case 'mul':
      return F.mul(x.a, x.b);
    case 'div':
      return F.div(x.a, x.b);
    case 'neg':
      return F.neg(x.x);
    case 'exp':
      return F.exp(x.x);
    case 'log':
      return F.log(x.x);
    case 'sqrt':
      return F.sqrt(x.x);
    case 'tanh':
      return F.tanh(x.x);
    case 'relu':
      return F.relu(x.x);
    case 'sigmoid':
      return F.sigmoid(x.x);
    case 'gelu':
      return F.gelu(x.x);
    case 'gelu_tanh':
      return F.gelu(x.x, 'tanh');
    case 'scale':
      return F.scale(x.x, args.alpha as number, args.beta as number);
    case 'sum':
      return F.sum(x.x, axesOf(args), args.keepdim as boolean);
    case 'mean':
      return F.mean(x.x, axesOf(args), args.keepdim as boolean);
    case 'max':
      return F.max(x.x, axesOf(args), args.keepdim as boolean);
    case 'reshape':
      return F.reshape(x.x, args.shape as number[]);
    case 'permute':
      return F.permute(x.x, args.perm as number[]);
    case 'transpose':
      return F.transpose(x.x, args.dim0 as number, args.dim1 as number);
    case 'slice':
      return F.slice(x.x, args.axis as number, args.start as number, args.end as number);
    case 'concat':
      return F.concat([x.a, x.b], args.axis as number);
    case 'layer_norm':
      return F.layerNorm(x.x, x.weight ?? null, x.bias ?? null, (args.eps as number | undefined) ?? 1e-5);
    case 'rms_norm':
      return F.rmsNorm(x.x, x.weight ?? null, (args.eps as number | undefined) ?? 1e-5);
    case 'softmax':
      return F.softmax(x.x);
    case 'log_softmax':
      return F.logSoftmax(x.x);
    case 'cross_entropy':
      return F.crossEntropy(x.logits, x.targets, (args.ignore_index as number | undefined) ?? -100);
    case 'attention':
      return F.attention(x.q, x.k, x.v, args.causal as boolean, x.key_mask ?? null);
    case 'packed_attention':
      return F.packedAttention(x.qkv, args.n_head as number, args.causal as boolean, x.key_mask ?? null);
    case 'cross_attention':
      return F.crossAttention(x.q, x.kv, args.n_head as number, x.key_mask ?? null);
    case 'embedding':
      return F.embedding(x.weight, x.ids);
    default:
      throw new Error(`no engine op mapped for fixture op '${op}'`);
  }
}
