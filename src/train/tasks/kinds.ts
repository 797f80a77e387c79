// The tasks `resnorm train --task` knows, defined once, and the kind of run directory each one writes
// (run.json's `kind`: a language-model run keeps 'gpt', what it was before there were other tasks).

import type { RunKind } from '../../io/run-store.ts';

export const TASKS = ['lm', 'translate', 'classify', 'image'] as const;
export type Task = (typeof TASKS)[number];

/** The tasks besides the language model: their runs are config.json version 2, with a vocab.json. */
export type OtherTask = Exclude<Task, 'lm'>;

export function runKindOf(task: Task): RunKind {
  switch (task) {
    case 'lm':
      return 'gpt';
    case 'translate':
    case 'classify':
    case 'image':
      return task;
  }
}

export function taskOfRunKind(kind: RunKind): Task {
  switch (kind) {
    case 'gpt':
      return 'lm';
    case 'translate':
    case 'classify':
    case 'image':
      return kind;
  }
}

/** What `resnorm eval` and `info` call the examples of each task. */
export const TASK_NOUNS: Record<Task, string> = { lm: 'tokens', translate: 'pairs', classify: 'texts', image: 'images' };
