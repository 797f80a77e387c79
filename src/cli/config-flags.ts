// Every config field of every task is also a flag (--block-size 128, --placement post, --bias false),
// generated from the tasks' schemas so the two never drift apart; values are checked by the same
// schema as files. A flag of another task's settings is refused with the list of this task's.

import type { Command } from 'commander';
import type { z } from 'zod';
import { TRAIN_CONFIG_FIELDS, TrainConfigSchema } from '../train/config.ts';
import { CLASSIFY_CONFIG_FIELDS, ClassifyConfigSchema } from '../train/tasks/classify-config.ts';
import { IMAGE_CONFIG_FIELDS, ImageConfigSchema } from '../train/tasks/image-config.ts';
import { TASKS, type Task } from '../train/tasks/kinds.ts';
import { TRANSLATE_CONFIG_FIELDS, TranslateConfigSchema } from '../train/tasks/translate-config.ts';
import { UserError } from './errors.ts';

export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Each task's config fields and schema. */
const TASK_FIELDS: Record<Task, { fields: readonly string[]; shape: Record<string, z.ZodType> }> = {
  lm: { fields: TRAIN_CONFIG_FIELDS, shape: TrainConfigSchema.shape },
  translate: { fields: TRANSLATE_CONFIG_FIELDS, shape: TranslateConfigSchema.shape },
  classify: { fields: CLASSIFY_CONFIG_FIELDS, shape: ClassifyConfigSchema.shape },
  image: { fields: IMAGE_CONFIG_FIELDS, shape: ImageConfigSchema.shape },
};

export function taskFields(task: Task): readonly string[] {
  return TASK_FIELDS[task].fields;
}

/** Every field of any task, in the order the tasks list them (the language model's first). */
const ALL_FIELDS = [...new Set(TASKS.flatMap((t) => TASK_FIELDS[t].fields))];

type FieldJson = { type?: string; enum?: string[]; default?: unknown };

function jsonSchemaOf(task: Task, field: string): FieldJson {
  return TASK_FIELDS[task].shape[field].toJSONSchema() as FieldJson;
}

/** `batchSize, default 12 (lm), 64 (translate, image), 32 (classify)`. */
function describeField(field: string): string {
  const tasks = TASKS.filter((t) => TASK_FIELDS[t].fields.includes(field));
  const first = jsonSchemaOf(tasks[0], field);
  const allowed = first.enum ? ` (${first.enum.join('|')})` : '';
  const byDefault = new Map<string, Task[]>();
  for (const t of tasks) {
    const d = jsonSchemaOf(t, field).default;
    if (d === undefined) continue;
    const key = JSON.stringify(d);
    byDefault.set(key, [...(byDefault.get(key) ?? []), t]);
  }
  const only = tasks.length < TASKS.length ? ` [${tasks.join(', ')}]` : '';
  const defaults = [...byDefault].map(([d, ts]) => (byDefault.size === 1 && ts.length === tasks.length ? d : `${d} (${ts.join(', ')})`));
  return `${field}${allowed}${defaults.length > 0 ? `, default ${defaults.join(', ')}` : ''}${only}`;
}

function isBoolean(field: string): boolean {
  const t = TASKS.find((k) => TASK_FIELDS[k].fields.includes(field))!;
  return jsonSchemaOf(t, field).type === 'boolean';
}

function isArray(field: string): boolean {
  const t = TASKS.find((k) => TASK_FIELDS[k].fields.includes(field))!;
  return jsonSchemaOf(t, field).type === 'array';
}

/** Adds one option per config field of any task to `cmd`. */
export function addConfigFlags(cmd: Command): Command {
  // A boolean flag alone means true (--keep-best); it also takes a value (--bias false).
  for (const field of ALL_FIELDS) cmd.option(`--${kebab(field)} ${isBoolean(field) ? '[value]' : '<value>'}`, describeField(field));
  return cmd;
}

/** One flag's string as a typed value (the schema checks it after): booleans, numbers, lists `2,2`, else the string. */
function flagValue(field: string, v: unknown): unknown {
  const s = String(v);
  if (isArray(field)) return s.split(',').map((x) => (x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : x));
  return s === 'true' ? true : s === 'false' ? false : s.trim() !== '' && Number.isFinite(Number(s)) && field !== 'data' ? Number(s) : s;
}

/** The config fields given as flags, typed, for `task`; a flag of another task's settings is a UserError. */
export function configOverrides(opts: Record<string, unknown>, task: Task = 'lm'): Record<string, unknown> {
  const fields = TASK_FIELDS[task].fields;
  const out: Record<string, unknown> = {};
  const foreign: string[] = [];
  for (const field of ALL_FIELDS) {
    const v = opts[field];
    if (v === undefined) continue;
    if (!fields.includes(field)) foreign.push(`--${kebab(field)}`);
    else out[field] = flagValue(field, v);
  }
  if (foreign.length > 0) {
    const owners = TASKS.filter((t) => t !== task && foreign.every((f) => TASK_FIELDS[t].fields.map(kebab).includes(f.slice(2))));
    throw new UserError(
      `${foreign.join(', ')} ${foreign.length > 1 ? 'are not settings' : 'is not a setting'} of --task ${task}${owners.length > 0 ? ` (${owners.map((t) => `--task ${t}`).join(', ')} ${owners.length > 1 ? 'have' : 'has'} ${foreign.length > 1 ? 'them' : 'it'})` : ''}; its settings: ${fields.map((f) => `--${kebab(f)}`).join(' ')}`,
    );
  }
  return out;
}
