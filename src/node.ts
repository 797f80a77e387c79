// resnorm's entry point in Node (the `node` condition of `import … from 'resnorm'`): the library core
// (src/index.ts) and the run directory on Node's file system, atomically written as the CLI writes it,
// so a program's runs open in `resnorm sample`, `eval`, the dashboard and the report.

import { nodeRunFs } from './cli/node-run-fs.ts';
import { RunStore, type RunKind } from './io/run-store.ts';

export * from './index.ts';
export { nodeRunFs };

/** Opens an existing run directory (made by `resnorm train` or by createRunDirectory) for reading. */
export function openRunDirectory(dir: string): Promise<RunStore> {
  return RunStore.open(nodeRunFs, dir);
}

/**
 * Makes a new run directory at `dir` (created if absent) and returns its store; refuses one that
 * already holds a run. Unlike `resnorm train`, it takes no lock: one program writes it at a time.
 */
export async function createRunDirectory(dir: string, kind: RunKind = 'gpt'): Promise<RunStore> {
  if (await RunStore.holdsRun(nodeRunFs, dir)) throw new Error(`${dir} already holds a run; open it with openRunDirectory, or pass another directory`);
  await nodeRunFs.mkdir(dir);
  return RunStore.create(nodeRunFs, dir, kind);
}
