// What `resnorm train` takes besides config fields, for every task: its options, the --config file,
// and which fields --resume may change.

import { existsSync, readFileSync } from 'node:fs';
import { UserError } from './errors.ts';

export interface TrainOptions extends Record<string, unknown> {
  /** lm (default), translate, classify or image. */
  task?: string;
  config?: string;
  out?: string;
  resume?: string;
  budgetMinutes?: string;
  /** Serve the live dashboard of this run while it trains. */
  dashboard?: boolean;
  dashboardPort?: string;
  /** Also write TensorBoard event files into this directory. */
  tensorboard?: string;
}

/** Fields that may change when a run is resumed; changing anything else would break exact continuation. */
export const RESUMABLE_OVERRIDES = new Set(['maxIters', 'evalInterval', 'evalIters', 'logInterval', 'diagInterval', 'sampleLength', 'data', 'keepCheckpoints', 'keepBest']);

export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UserError(`--config ${path}: no such file`);
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the top level must be an object of config fields');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`--config ${path} is not a valid JSON config: ${(e as Error).message}`);
  }
}
