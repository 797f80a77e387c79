// A decoder-only Transformer language model (GPT): token embedding + positional encoding →
// N blocks (causal self-attention and MLP, each with a residual connection and normalization in one
// of the designs of docs/designs.md) → optional final norm → linear head to the vocabulary.
// Follows nanoGPT's model.py.

import type { Backend } from '../backend/backend.ts';
import type { ValueStream } from '../nn/attention.ts';
import { Block } from '../nn/block.ts';
import { needsEmbeddingNorm, needsFinalNorm } from '../nn/design.ts';
import { Dropout } from '../nn/dropout.ts';
import { Embedding } from '../nn/embedding.ts';
import type { KVCache } from '../nn/kv-cache.ts';
import { Linear } from '../nn/linear.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { taps } from '../nn/taps.ts';
import { makeNorm, type Norm } from '../nn/norm.ts';
import type { Parameter } from '../nn/parameter.ts';
import { learnedPositions, sinusoidalTable } from '../nn/positional.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { expand, reshape } from '../tensor/ops/layout.ts';
import { sum } from '../tensor/ops/reduce.ts';
import { embedding } from '../tensor/ops/embedding.ts';
import { linear } from '../tensor/ops/matmul.ts';
import { slice } from '../tensor/ops/layout.ts';
import { crossEntropy } from '../tensor/ops/softmax.ts';
import { Rng } from '../tensor/rng.ts';
import { fmt } from '../tensor/shape.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { keep, tensor, type Tensor } from '../tensor/tensor.ts';
import { stepScope } from '../tensor/arena.ts';
import { isGradEnabled } from '../tensor/autograd.ts';
import { checkGPTConfig, ConfigError, type GPTConfig } from './gpt-config.ts';

export { checkGPTConfig, ConfigError, DEFAULT_GPT_CONFIG, type GPTConfig } from './gpt-config.ts';
export type { PositionalKind } from '../nn/positional.ts';

export interface GPTOutput {
  logits: Tensor; // (B, T, V)
  loss: Tensor | null; // scalar
}

export interface ForwardOptions {
  /** Blocks to leave out, by index: the stream passes them unchanged (the lab's lesion study). */
  skipBlocks?: ReadonlySet<number>;
}

export class GPT extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding | null;
  readonly h: ModuleList<Block>;
  readonly ln_f: Norm | null;
  /** Peri-LN's norm of the embedding output. */
  readonly ln_e: Norm | null;
  private readonly lmHead: Linear | null;
  private readonly drop: Dropout;
  /** The fixed sinusoidal table (blockSize, C), when the positions are not learned. */
  private peTable: Tensor | null = null;
  /** Draws dropout seeds; saved in checkpoints so a resumed run continues exactly. */
  readonly dropoutRng: Rng;

  private constructor(readonly config: GPTConfig, seed: number) {
    super();
    checkGPTConfig(config);
    const c = config;
    this.dropoutRng = new Rng(seed ^ 0x5bd1e995);
    // GPT-2: the projections that write into the residual stream are scaled by 1/sqrt(2·L).
    const projInit = { kind: 'normal', std: 0.02 / Math.sqrt(2 * c.nLayer) } as const;
    this.wte = this.child('wte', new Embedding(c.vocabSize, c.nEmbd));
    // Learned positions are a trained table (GPT-2's wpe); sinusoidal ones a fixed table made in create().
    this.wpe = learnedPositions(c.positional) ? this.child('wpe', new Embedding(c.blockSize, c.nEmbd)) : null;
    this.drop = this.child('drop', new Dropout(c.dropout, this.dropoutRng));
    this.ln_e = needsEmbeddingNorm(c.placement) ? this.child('ln_e', makeNorm(c.norm, c.nEmbd, c.bias)) : null;
    const blocks = Array.from({ length: c.nLayer }, (_, layer) =>
      new Block({ C: c.nEmbd, nHead: c.nHead, bias: c.bias, activation: c.activation, dropout: c.dropout, projInit, rng: this.dropoutRng, design: c, layer }),
    );
    this.h = this.child('h', new ModuleList(blocks));
    this.ln_f = needsFinalNorm(c) ? this.child('ln_f', makeNorm(c.norm, c.nEmbd, c.bias)) : null;
    this.lmHead = c.tieWeights ? null : this.child('lm_head', new Linear(c.nEmbd, c.vocabSize, { bias: false }));
  }

  /**
   * Builds the model and allocates its parameters on `backend`, initialised from `seed` (or left at
   * zero with `initialise: false`, for weights loaded next). dtype float64 serves finite-difference
   * gradient checks (tests); training is float32.
   */
  static create(config: GPTConfig, opts: { backend?: Backend; seed?: number; dtype?: 'float32' | 'float64'; initialise?: boolean } = {}): GPT {
    const seed = opts.seed ?? 1337;
    const backend = opts.backend ?? getDefaultBackend();
    const dtype = opts.dtype ?? 'float32';
    const model = new GPT(config, seed);
    model.materialize(backend, new Rng(seed), dtype, opts.initialise ?? true);
    if (!learnedPositions(config.positional)) {
      const table = sinusoidalTable(config.blockSize, config.nEmbd);
      model.peTable = tensor(dtype === 'float64' ? Float64Array.from(table) : table, [config.blockSize, config.nEmbd], { backend });
    }
    return model;
  }

  get backend(): Backend {
    return this.store!.backend;
  }

  /** The output head's weight (V, C): the token embedding when tied. */
  get headWeight(): Parameter {
    return this.lmHead ? this.lmHead.weight : this.wte.weight;
  }

  /**
   * idx: int32 (B, T) token ids; targets: int32 (B, T) or null. With a KV cache, idx holds only the
   * new tokens, placed after the cache's `length` positions (the caller advances the cache).
   */
  forward(idx: Tensor, targets: Tensor | null = null, cache?: KVCache, opts: ForwardOptions = {}): GPTOutput {
    const T = idx.shape[1];
    const offset = cache?.length ?? 0;
    if (idx.rank !== 2 || idx.dtype !== 'int32') throw new ConfigError(`GPT.forward: idx must be int32 (B, T), got ${idx.dtype} ${fmt(idx.shape)}`);
    if (offset + T > this.config.blockSize) throw new ConfigError(`GPT.forward: sequence length ${offset + T} exceeds block size ${this.config.blockSize}`);
    const tok = this.wte.forward(idx); // (B, T, C)
    const pos = this.positions(offset, T); // (T, C)
    let x = this.drop.forward(add(tok, pos)); // (B, T, C)
    if (this.ln_e) x = this.ln_e.forward(x);
    const streams = this.config.residual === 'hyper' ? this.config.hyperStreams : 0;
    const [B, , C] = x.shape;
    // Hyper-connections carry n copies of the stream, (B, T, n, C), and sum them after the last block.
    if (streams > 0) x = expand(reshape(x, [B, T, 1, C]), [B, T, streams, C]);
    const values: ValueStream | undefined = this.config.residual === 'value-residual' ? { first: null } : undefined;
    // With no graph recorded and no taps watching (evaluation, sampling), nothing after a block reads
    // its intermediates: each block runs in a scope of its own that keeps only its output (and the
    // value stream's first values), so the forward holds one block's activations at a time rather than
    // every block's until the caller's scope closes.
    const perBlock = !isGradEnabled() && taps() === null;
    this.h.items.forEach((block, i) => {
      if (opts.skipBlocks?.has(i)) return;
      const run = () => block.forward(x, cache?.layer(i), values);
      x = perBlock
        ? stepScope(() => {
            const y = keep(run());
            if (values?.first) keep(values.first);
            return y;
          })
        : run();
    });
    if (streams > 0) x = sum(x, [2]);
    if (this.ln_f) x = this.ln_f.forward(x);
    const logits = linear(x, this.headWeight.value, null); // (B, T, V)
    const loss = targets ? crossEntropy(logits, targets) : null;
    return { logits, loss };
  }

  private positions(offset: number, T: number): Tensor {
    if (this.wpe) {
      const ids = tensor(Int32Array.from({ length: T }, (_, i) => offset + i), [T], { backend: this.backend });
      return embedding(this.wpe.weight.value, ids);
    }
    return slice(this.peTable!, 0, offset, offset + T);
  }
}
