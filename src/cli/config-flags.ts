// Every TrainConfig field is also a flag (--block-size 128, --placement post, --bias false), generated
// from the schema so the two never drift apart; values are checked by the same schema as files.

import type { Command } from 'commander';
import { TRAIN_CONFIG_FIELDS, TrainConfigSchema } from '../train/config.ts';

export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function jsonSchemaOf(field: string): { type?: string; enum?: string[]; default?: unknown } {
  return TrainConfigSchema.shape[field as keyof typeof TrainConfigSchema.shape].toJSONSchema() as { type?: string; enum?: string[]; default?: unknown };
}

function describeField(field: string): string {
  const json = jsonSchemaOf(field);
  const allowed = json.enum ? ` (${json.enum.join('|')})` : '';
  return `${field}${allowed}${json.default !== undefined ? `, default ${JSON.stringify(json.default)}` : ''}`;
}

/** Adds one option per config field to `cmd`. */
export function addConfigFlags(cmd: Command): Command {
  // A boolean flag alone means true (--keep-best); it also takes a value (--bias false).
  for (const field of TRAIN_CONFIG_FIELDS) cmd.option(`--${kebab(field)} ${jsonSchemaOf(field).type === 'boolean' ? '[value]' : '<value>'}`, describeField(field));
  return cmd;
}

/** Turns the flag strings commander collected into typed values (the schema checks them after). */
export function configOverrides(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of TRAIN_CONFIG_FIELDS) {
    const v = opts[field];
    if (v === undefined) continue;
    const s = String(v);
    out[field] = s === 'true' ? true : s === 'false' ? false : s.trim() !== '' && Number.isFinite(Number(s)) && field !== 'data' ? Number(s) : s;
  }
  return out;
}
