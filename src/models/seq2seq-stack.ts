// One stack of the encoder-decoder, what the encoder and the decoder have in common: the token
// embedding and positions of its side, Peri-LN's embedding norm, its layers, and the final norm its
// design needs (the GPT's wte, wpe, ln_e, h, ln_f, under the stack's prefix). Hyper-connections copy
// the embedding output into n streams and sum them before the final norm, per stack.

import type { Backend } from '../backend/backend.ts';
import type { ValueStream } from '../nn/attention.ts';
import type { Block } from '../nn/block.ts';
import { needsEmbeddingNorm, needsFinalNorm, type DesignFields } from '../nn/design.ts';
import { Dropout } from '../nn/dropout.ts';
import { Embedding } from '../nn/embedding.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { makeNorm, type Norm } from '../nn/norm.ts';
import { learnedPositions, sinusoidalTable, type PositionalKind } from '../nn/positional.ts';
import { embedding } from '../tensor/ops/embedding.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { expand, reshape, slice } from '../tensor/ops/layout.ts';
import { sum } from '../tensor/ops/reduce.ts';
import type { Rng } from '../tensor/rng.ts';
import { tensor, type Tensor } from '../tensor/tensor.ts';
import { ConfigError } from './gpt-config.ts';

export interface StackOptions {
  vocab: number;
  /** The longest sequence of this side (the positions' table), and the config field that sets it (for messages). */
  maxLen: number;
  maxLenField: string;
  C: number;
  bias: boolean;
  dropout: number;
  positional: PositionalKind;
  design: DesignFields;
  rng: Rng;
  /** The other side's embedding when the two share one (registered there, not here). */
  sharedEmbedding: Embedding | null;
}

export class Stack<B extends Module> extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding | null;
  readonly ln_e: Norm | null;
  readonly h: ModuleList<B>;
  readonly ln_f: Norm | null;
  private readonly drop: Dropout;
  /** The fixed sinusoidal table (maxLen, C), made by `materializePositions`, when positions are not learned. */
  private peTable: Tensor | null = null;

  constructor(
    private readonly o: StackOptions,
    block: (layer: number) => B,
  ) {
    super();
    const d = o.design;
    this.wte = o.sharedEmbedding ?? this.child('wte', new Embedding(o.vocab, o.C));
    this.wpe = learnedPositions(o.positional) ? this.child('wpe', new Embedding(o.maxLen, o.C)) : null;
    this.drop = this.child('drop', new Dropout(o.dropout, o.rng));
    this.ln_e = needsEmbeddingNorm(d.placement) ? this.child('ln_e', makeNorm(d.norm, o.C, o.bias)) : null;
    this.h = this.child('h', new ModuleList(Array.from({ length: d.nLayer }, (_, layer) => block(layer))));
    this.ln_f = needsFinalNorm(d) ? this.child('ln_f', makeNorm(d.norm, o.C, o.bias)) : null;
  }

  /** Makes the fixed positions' table on the model's backend, in its dtype (after materialize). */
  materializePositions(backend: Backend, dtype: 'float32' | 'float64'): void {
    if (learnedPositions(this.o.positional)) return;
    const table = sinusoidalTable(this.o.maxLen, this.o.C);
    this.peTable = tensor(dtype === 'float64' ? Float64Array.from(table) : table, [this.o.maxLen, this.o.C], { backend });
  }

  /**
   * ids int32 (B, T) at positions offset … offset + T − 1 → the stream entering the first layer:
   * (B, T, C), or (B, T, n, C) for n hyper-connection streams.
   */
  embed(ids: Tensor, offset: number, what: string): Tensor {
    const T = ids.shape[1];
    if (offset + T > this.o.maxLen) {
      throw new ConfigError(`${what} length ${offset + T} exceeds its maximum ${this.o.maxLen}; raise ${this.o.maxLenField} or shorten the sequences`);
    }
    const tok = this.wte.forward(ids); // (B, T, C)
    let x = this.drop.forward(add(tok, this.positions(ids.backend, offset, T)));
    if (this.ln_e) x = this.ln_e.forward(x);
    const n = this.streams;
    if (n > 0) {
      const [B, , C] = x.shape;
      x = expand(reshape(x, [B, T, 1, C]), [B, T, n, C]);
    }
    return x;
  }

  /**
   * A bidirectional stack (an encoder's) over ids int32 (B, T) with their padding mask float (B, T):
   * embedding, every layer with the mask, the final norm → (B, T, C).
   */
  encode(this: Stack<Block>, ids: Tensor, mask: Tensor, what: string): Tensor {
    let x = this.embed(ids, 0, what);
    const values: ValueStream | undefined = this.o.design.residual === 'value-residual' ? { first: null } : undefined;
    for (const block of this.h.items) x = block.forward(x, undefined, values, mask);
    return this.finish(x);
  }

  /** The stream leaving the last layer → (B, T, C): the hyper-connection streams summed, then the final norm. */
  finish(x: Tensor): Tensor {
    const y = this.streams > 0 ? sum(x, [2]) : x;
    return this.ln_f ? this.ln_f.forward(y) : y;
  }

  private get streams(): number {
    return this.o.design.residual === 'hyper' ? this.o.design.hyperStreams : 0;
  }

  private positions(backend: Backend, offset: number, T: number): Tensor {
    if (this.wpe) return embedding(this.wpe.weight.value, tensor(Int32Array.from({ length: T }, (_, i) => offset + i), [T], { backend }));
    return slice(this.peTable!, 0, offset, offset + T);
  }
}
