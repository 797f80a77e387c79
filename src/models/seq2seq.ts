// The encoder-decoder Transformer (Vaswani et al. 2017): the source's embedding and positions → N
// encoder layers (self-attention over the source, padded keys masked, and a feed-forward) → final norm
// where the design needs one; the target's embedding and positions → M decoder layers (causal
// self-attention, cross-attention on the encoder's output, feed-forward) → final norm → head to the
// target vocabulary. Every sub-layer is wrapped in the design of docs/designs.md, per stack.
//
// Parameter names follow the GPT's under each stack's prefix (docs/designs.md, "The encoder-decoder"):
// encoder.{wte, wpe, ln_e, ln_f}, encoder.h.{i}.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj},
// decoder.{wte, wpe, ln_e, ln_f}, decoder.h.{i}.{ln_1, attn.c_attn, attn.c_proj, ln_2, cross.c_q,
// cross.c_kv, cross.c_proj, ln_3, mlp.c_fc, mlp.c_proj}, and lm_head when the head is not tied.

import type { Backend } from '../backend/backend.ts';
import type { ValueStream } from '../nn/attention.ts';
import { DecoderBlock, type CrossMemory } from '../nn/decoder-block.ts';
import { Block, type BlockOptions } from '../nn/block.ts';
import type { KVCache } from '../nn/kv-cache.ts';
import { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { linear } from '../tensor/ops/matmul.ts';
import { Rng } from '../tensor/rng.ts';
import { fmt } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkSeq2SeqConfig, ConfigError, stackDesign, type Seq2SeqConfig } from './seq2seq-config.ts';
import { labelSmoothedCrossEntropy } from './seq2seq-loss.ts';
import { Stack } from './seq2seq-stack.ts';

export { checkSeq2SeqConfig, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './seq2seq-config.ts';
export type { CrossMemory } from '../nn/decoder-block.ts';

export interface Seq2SeqOutput {
  logits: Tensor; // (B, T, V_target)
  loss: Tensor | null; // scalar
}

export class Seq2Seq extends Module {
  readonly encoder: Stack<Block>;
  readonly decoder: Stack<DecoderBlock>;
  private readonly lmHead: Linear | null;
  /** Draws dropout seeds, as the GPT's does. */
  readonly dropoutRng: Rng;

  private constructor(readonly config: Seq2SeqConfig, seed: number) {
    super();
    checkSeq2SeqConfig(config);
    const c = config;
    this.dropoutRng = new Rng(seed ^ 0x5bd1e995);
    const blockOptions = (role: 'encoder' | 'decoder', layer: number): BlockOptions => {
      const design = stackDesign(c, role);
      // GPT-2's scaling of the projections that write into the stream, by the stack's residual adds.
      const adds = (role === 'encoder' ? 2 : 3) * design.nLayer;
      return {
        C: c.nEmbd, nHead: c.nHead, bias: c.bias, activation: c.activation, dropout: c.dropout,
        projInit: { kind: 'normal', std: 0.02 / Math.sqrt(adds) }, rng: this.dropoutRng, design, layer,
      };
    };
    const side = (role: 'encoder' | 'decoder') => ({
      vocab: role === 'encoder' ? c.sourceVocab : c.targetVocab,
      maxLen: role === 'encoder' ? c.maxSource : c.maxTarget,
      maxLenField: role === 'encoder' ? 'maxSource' : 'maxTarget',
      C: c.nEmbd, bias: c.bias, dropout: c.dropout, positional: c.positional, design: stackDesign(c, role), rng: this.dropoutRng,
    });
    this.encoder = this.child('encoder', new Stack({ ...side('encoder'), sharedEmbedding: null }, (i) => new Block({ ...blockOptions('encoder', i), causal: false })));
    const shared = c.shareEmbeddings ? this.encoder.wte : null;
    this.decoder = this.child('decoder', new Stack({ ...side('decoder'), sharedEmbedding: shared }, (i) => new DecoderBlock(blockOptions('decoder', i))));
    this.lmHead = c.tieTargetEmbedding ? null : this.child('lm_head', new Linear(c.nEmbd, c.targetVocab, { bias: false }));
  }

  /** Builds the model and allocates its parameters on `backend`, from `seed`; float64 serves gradient checks. */
  static create(config: Seq2SeqConfig, opts: { backend?: Backend; seed?: number; dtype?: 'float32' | 'float64' } = {}): Seq2Seq {
    const seed = opts.seed ?? 1337;
    const backend = opts.backend ?? getDefaultBackend();
    const dtype = opts.dtype ?? 'float32';
    const model = new Seq2Seq(config, seed);
    model.materialize(backend, new Rng(seed), dtype);
    model.encoder.materializePositions(backend, dtype);
    model.decoder.materializePositions(backend, dtype);
    return model;
  }

  get backend(): Backend {
    return this.store!.backend;
  }

  /** The output head's weight (V_target, C): the decoder's embedding when tied (the shared one when shared). */
  get headWeight(): Parameter {
    return this.lmHead ? this.lmHead.weight : this.decoder.wte.weight;
  }

  /**
   * Teacher forcing. src int32 (B, S) source ids; srcMask float (B, S), 1 for a real source position,
   * 0 for padding; tgtIn int32 (B, T) the decoder's inputs (the start token, then the target shifted
   * right); tgtOut int32 (B, T) the targets, −100 where nothing is to be predicted (padding), or null.
   * The loss is label-smoothed cross-entropy (config.labelSmoothing) over the counted positions.
   * Targets are padded after their end, so the decoder's causal self-attention needs no key mask: a
   * real position never sees a later (padded) one.
   */
  forward(src: Tensor, srcMask: Tensor, tgtIn: Tensor, tgtOut: Tensor | null = null): Seq2SeqOutput {
    const memory = this.memory(this.encode(src, srcMask), srcMask);
    const logits = this.decode(tgtIn, memory);
    const loss = tgtOut ? labelSmoothedCrossEntropy(logits, tgtOut, this.config.labelSmoothing) : null;
    return { logits, loss };
  }

  /** The encoder's output (B, S, C). */
  encode(src: Tensor, srcMask: Tensor): Tensor {
    checkIds('src', src);
    if (srcMask.rank !== 2 || srcMask.shape[0] !== src.shape[0] || srcMask.shape[1] !== src.shape[1] || srcMask.dtype === 'int32') {
      throw new ConfigError(`Seq2Seq: srcMask must be float (B, S) like src ${fmt(src.shape)} (1 real, 0 padding), got ${srcMask.dtype} ${fmt(srcMask.shape)}`);
    }
    return this.encoder.encode(src, srcMask, 'source');
  }

  /** What each decoder layer's cross-attention reads: its keys | values of the encoder output, and the source mask. */
  memory(encoded: Tensor, srcMask: Tensor): CrossMemory[] {
    return this.decoder.h.items.map((block) => ({ kv: block.cross.keysValues(encoded), keyMask: srcMask }));
  }

  /**
   * The logits (B, T, V_target) of the decoder on tgtIn int32 (B, T). With a KV cache (decoding),
   * tgtIn holds only the new positions, placed after the cache's `length` (the caller advances it).
   */
  decode(tgtIn: Tensor, memory: readonly CrossMemory[], cache?: KVCache): Tensor {
    checkIds('tgtIn', tgtIn);
    let x = this.decoder.embed(tgtIn, cache?.length ?? 0, 'target');
    const values: ValueStream | undefined = this.config.residual === 'value-residual' ? { first: null } : undefined;
    this.decoder.h.items.forEach((block, i) => {
      x = block.forward(x, memory[i], cache?.layer(i), values);
    });
    return linear(this.decoder.finish(x), this.headWeight.value, null); // (B, T, V)
  }
}

function checkIds(name: string, ids: Tensor): void {
  if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ConfigError(`Seq2Seq: ${name} must be int32 (B, T), got ${ids.dtype} ${fmt(ids.shape)}`);
}

/** The training loss for TrainStep (its LossFn): inputs [src, srcMask, tgtIn, tgtOut], as seq2seqBatch lays them out. */
export const seq2seqLoss = (model: Seq2Seq) => (inputs: readonly Tensor[]): Tensor => model.forward(inputs[0], inputs[1], inputs[2], inputs[3]).loss!;

/** One training batch as TrainStep's host inputs (HostInput[]): src int32 (B, S), srcMask float (B, S), tgtIn and tgtOut int32 (B, T). */
export function seq2seqBatch(b: { src: Int32Array; srcMask: Float32Array; tgtIn: Int32Array; tgtOut: Int32Array; B: number; S: number; T: number }): { data: Int32Array | Float32Array; shape: number[] }[] {
  return [
    { data: b.src, shape: [b.B, b.S] },
    { data: b.srcMask, shape: [b.B, b.S] },
    { data: b.tgtIn, shape: [b.B, b.T] },
    { data: b.tgtOut, shape: [b.B, b.T] },
  ];
}
