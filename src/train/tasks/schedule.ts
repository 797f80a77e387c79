// The schedule fields of a task's run config with that task's own defaults: each task picks the
// language model's definitions (src/train/config.ts), so types, ranges and messages stay one.

import { z } from 'zod';
import { ScheduleFields, type ScheduleField } from '../config.ts';

type Shape = typeof ScheduleFields.shape;

/** The schedule fields, with `defaults` replacing the language model's where a task differs. */
export function scheduleWith(defaults: Partial<Record<ScheduleField, number | boolean>>): Shape {
  const shape = { ...ScheduleFields.shape } as Record<string, z.ZodType>;
  for (const [k, v] of Object.entries(defaults)) {
    const field = ScheduleFields.shape[k as ScheduleField] as z.ZodType;
    // The field without its default (an optional field has none), then the task's default.
    const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
    shape[k] = inner.default(v as never);
  }
  return shape as Shape;
}
