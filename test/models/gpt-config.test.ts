// The model's settings are defined once (models/gpt-config.ts, with the variants' names from nn/): the
// training schema, the CLI flags and their help, the defaults and the model all follow them, and
// every combination of variants builds and trains.

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addConfigFlags } from '../../src/cli/config-flags.ts';
import { DEFAULT_GPT_CONFIG, GPT } from '../../src/models/gpt.ts';
import { GPT_CONFIG_FIELDS } from '../../src/models/gpt-config.ts';
import { ACTIVATIONS } from '../../src/nn/activation.ts';
import { SelfAttention, headSplitProblem } from '../../src/nn/attention.ts';
import { needsFinalNorm, PLACEMENTS, RESIDUALS } from '../../src/nn/design.ts';
import { NORM_KINDS } from '../../src/nn/norm.ts';
import { POSITIONAL_KINDS } from '../../src/nn/positional.ts';
import { backward, stepScope, tensor } from '../../src/tensor/index.ts';
import { modelConfigOf, parseTrainConfig, TRAIN_CONFIG_FIELDS, TrainConfigSchema } from '../../src/train/config.ts';

const VARIANTS = { norm: NORM_KINDS, placement: PLACEMENTS, residual: RESIDUALS, positional: POSITIONAL_KINDS, activation: ACTIVATIONS } as const;

describe('one source for the model config', () => {
  it("the training schema holds the model's fields, in order, with the variants' tuples as its enums", () => {
    expect(TRAIN_CONFIG_FIELDS.slice(0, GPT_CONFIG_FIELDS.length - 1)).toEqual(GPT_CONFIG_FIELDS.filter((f) => f !== 'vocabSize'));
    for (const [field, tuple] of Object.entries(VARIANTS)) {
      expect(TrainConfigSchema.shape[field as keyof typeof VARIANTS].unwrap().options, field).toEqual(tuple);
    }
    expect(JSON.stringify(modelConfigOf(parseTrainConfig({}), 65))).toBe(JSON.stringify(DEFAULT_GPT_CONFIG));
  });

  it('the CLI help lists every variant, from the same tuples', () => {
    const help = addConfigFlags(new Command('train')).helpInformation().replace(/\s+/g, ' '); // commander wraps long lines
    expect(help).toContain('activation (gelu|gelu-tanh), default "gelu"');
    for (const [field, tuple] of Object.entries(VARIANTS)) expect(help, field).toContain(`${field} (${tuple.join('|')})`);
  });

  it('one head-count check, with one message, for the schema, GPT.create and the attention layer', () => {
    const problem = headSplitProblem(15, 2)!;
    expect(problem).toBe('nEmbd = 15 is not divisible by nHead = 2; each head needs nEmbd / nHead channels, so try nHead = 1 or 3');
    expect(headSplitProblem(128, 6)).toMatch(/try nHead = 4 or 8$/);
    expect(headSplitProblem(128, 200)).toMatch(/try nHead = 128$/);
    expect(headSplitProblem(128, 4)).toBeNull();
    expect(() => parseTrainConfig({ nEmbd: 15, nHead: 2 }, 'flags')).toThrow(`flags is invalid:\n  - field 'nHead' = 2: ${problem}`);
    expect(() => GPT.create({ ...DEFAULT_GPT_CONFIG, nEmbd: 15, nHead: 2 })).toThrow(`GPT config is invalid:\n  - field 'nHead' = 2: ${problem}`);
    expect(() => new SelfAttention(15, 2, { bias: true, projInit: { kind: 'zeros' } })).toThrow(`SelfAttention: ${problem}`);
  });

  it('GPT.create checks its config with the same schema as files and flags', () => {
    expect(() => GPT.create({ ...DEFAULT_GPT_CONFIG, dropout: 1 })).toThrow(`GPT config is invalid:\n  - field 'dropout' = 1: Too big: expected number to be <1`);
    expect(() => GPT.create({ ...DEFAULT_GPT_CONFIG, norm: 'groupnorm' as 'layernorm' })).toThrow(/field 'norm' = "groupnorm": Invalid option: expected one of "layernorm"\|"rmsnorm"\|"dyt"\|"batchnorm"\|"none"/);
    expect(() => GPT.create({ ...DEFAULT_GPT_CONFIG, nLayer: 0 })).toThrow(/field 'nLayer' = 0/);
    expect(() => GPT.create({ ...DEFAULT_GPT_CONFIG, ...{ nLayers: 2 } })).toThrow(/unknown field 'nLayers'; known fields: vocabSize, blockSize, nLayer/);
  });

  it('every combination of variants builds, runs forward and backward, and names its parameters', () => {
    const combos = NORM_KINDS.flatMap((norm) => PLACEMENTS.flatMap((placement) => POSITIONAL_KINDS.flatMap((positional) => ACTIVATIONS.map((activation) => ({ norm, placement, positional, activation })))));
    expect(combos).toHaveLength(NORM_KINDS.length * PLACEMENTS.length * POSITIONAL_KINDS.length * ACTIVATIONS.length);
    for (const v of combos) {
      const model = GPT.create({ ...DEFAULT_GPT_CONFIG, vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8, ...v });
      const names = model.uniqueParameters().map(([n]) => n);
      expect(names.includes('wpe.weight'), JSON.stringify(v)).toBe(v.positional === 'learned');
      const c = { ...DEFAULT_GPT_CONFIG, nLayer: 1, ...v };
      expect(names.includes('ln_f.weight'), JSON.stringify(v)).toBe(needsFinalNorm(c) && v.norm !== 'none');
      const loss = stepScope(() => {
        const ids = tensor(Int32Array.of(1, 2, 3, 4), [1, 4]);
        const out = model.forward(ids, tensor(Int32Array.of(2, 3, 4, 5), [1, 4]));
        backward(out.loss!);
        return out.loss!.item();
      });
      expect(Number.isFinite(loss), JSON.stringify(v)).toBe(true);
    }
  });
});
