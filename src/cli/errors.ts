// User errors versus bugs: a user error (bad flag, bad file, bad config) prints one precise message and
// exits 1 without a stack trace; anything else is a bug and shows its stack.

import { DashboardError } from '../dashboard/server-security.ts';
import { TokenizerError } from '../data/tokenizer.ts';
import { SafetensorsError } from '../io/safetensors.ts';
import { RunStoreError } from '../io/run-store.ts';
import { SampleError } from '../models/generate.ts';
import { ConfigError } from '../models/gpt.ts';
import { StateDictError } from '../nn/parameter-store.ts';
import { ShapeError } from '../tensor/shape.ts';
import { CheckpointError } from '../train/checkpoint.ts';
import { NonFiniteLossError } from '../train/trainer.ts';
import { DatasetError } from '../data/datasets/dataset-error.ts';

/** Problems with the user's input found by the CLI itself (missing files, empty corpora, ...). */
export class UserError extends Error {
  override name = 'UserError';
}

const USER_ERRORS = [UserError, ConfigError, CheckpointError, RunStoreError, TokenizerError, SafetensorsError, SampleError, StateDictError, ShapeError, NonFiniteLossError, RangeError, DashboardError, DatasetError];

export function isUserError(e: unknown): e is Error {
  return USER_ERRORS.some((cls) => e instanceof cls);
}

export function reportAndExit(e: unknown): never {
  if (isUserError(e)) {
    console.error(`resnorm: ${e.message}`);
  } else {
    console.error('resnorm: internal error (please report it):');
    console.error(e);
  }
  process.exit(1);
}
