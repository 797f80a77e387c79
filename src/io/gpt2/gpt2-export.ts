// A resnorm run's model, weights and tokenizer as a Hugging Face GPT-2 directory: config.json,
// model.safetensors (GPT-2's names and Conv1D layout) and vocab.json + merges.txt. Only a run of
// GPT-2's design can be written; any other is refused with every field GPT-2 cannot hold
// (gpt2-design.ts). Returns the files' contents; the CLI writes them.

import { BpeTokenizer } from '../../data/bpe-tokenizer.ts';
import { GPT2_END_OF_TEXT, gpt2TokenizerFiles } from '../../data/gpt2-vocab.ts';
import type { Tokenizer } from '../../data/tokenizer.ts';
import type { GPTConfig } from '../../models/gpt-config.ts';
import type { HostTensor } from '../../nn/parameter-store.ts';
import { encodeSafetensors } from '../safetensors.ts';
import { modelToGpt2Config } from './gpt2-config.ts';
import { GPT2_DESIGN, gpt2DesignProblems, gpt2TokenizerProblem } from './gpt2-design.ts';
import { Gpt2FormatError } from './gpt2-error.ts';
import { stateToGpt2 } from './gpt2-weights.ts';

export const GPT2_EXPORT_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type Gpt2ExportDType = (typeof GPT2_EXPORT_DTYPES)[number];

const TORCH_DTYPE: Record<Gpt2ExportDType, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export const GPT2_OUTPUT_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;
export type Gpt2OutputFile = (typeof GPT2_OUTPUT_FILES)[number];

export interface Gpt2ExportInput {
  model: GPTConfig;
  tokenizer: Tokenizer;
  /** The checkpoint's weights, by resnorm's names. */
  state: ReadonlyMap<string, HostTensor>;
}

/** Every reason `run` cannot be written as GPT-2 (empty when it can). */
export function gpt2ExportProblems(run: Pick<Gpt2ExportInput, 'model' | 'tokenizer'>): string[] {
  const tokenizer = gpt2TokenizerProblem(run.tokenizer.kind);
  return [...gpt2DesignProblems(run.model), ...(tokenizer ? [tokenizer] : [])];
}

/** Throws the refusal, naming every field GPT-2 cannot hold, unless `run` is of GPT-2's design. */
export function checkGpt2Export(run: Pick<Gpt2ExportInput, 'model' | 'tokenizer'>, source: string): void {
  const problems = gpt2ExportProblems(run);
  if (problems.length > 0) {
    throw new Gpt2FormatError(`${source} cannot be written as GPT-2, which cannot hold:\n  - ${problems.join('\n  - ')}\n${GPT2_DESIGN}.`);
  }
}

/** `source` names the run in messages ('runs/x/checkpoints/step-00000400'). */
export function exportGpt2(run: Gpt2ExportInput, source: string, dtype: Gpt2ExportDType = 'F32'): Record<Gpt2OutputFile, Uint8Array | string> {
  checkGpt2Export(run, source);
  const tok = run.tokenizer;
  if (!(tok instanceof BpeTokenizer)) throw new Error('exportGpt2: a tokenizer of kind bpe is a BpeTokenizer');
  const eot = tok.specials.indexOf(GPT2_END_OF_TEXT);
  const config = modelToGpt2Config(run.model, { endOfText: eot < 0 ? null : 256 + tok.merges.length + eot, torchDtype: TORCH_DTYPE[dtype] });
  const tensors = stateToGpt2(run.state, run.model, dtype, source);
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    // Hugging Face's loader reads the 'format' metadata to know the tensors are PyTorch's.
    'model.safetensors': encodeSafetensors(tensors, { format: 'pt' }, { source: 'model.safetensors' }),
    ...gpt2TokenizerFiles(tok),
  };
}
