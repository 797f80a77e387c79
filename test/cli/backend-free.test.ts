// Which commands start a compute backend before their action (main.ts's preAction hook): the ones
// that compute; those that only read, convert or serve files, and the lab's scheduler, are marked
// where they are registered (src/cli/backend-free.ts) and start none.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { needsBackend } from '../../src/cli/backend-free.ts';
import { cliProgram } from '../../src/cli/main.ts';

function walk(c: Command, prefix = ''): [string, boolean][] {
  return c.commands.flatMap((s) => {
    const name = `${prefix}${s.name()}`;
    return [[name, needsBackend(s)] as [string, boolean], ...walk(s, `${name} `)];
  });
}

describe('commands without a compute backend', () => {
  it('partitions the registered commands', () => {
    const all = walk(cliProgram);
    const free = all.filter(([, needs]) => !needs).map(([n]) => n).sort();
    const computing = all.filter(([, needs]) => needs).map(([n]) => n).sort();
    expect(computing).toEqual(['eval', 'info', 'predict', 'sample', 'train', 'translate']);
    expect(free).toEqual([
      'dashboard', 'demo', 'export-gpt2', 'export-pytorch', 'export-tensorboard', 'import-gpt2', 'import-pytorch',
      'lab', 'lab list', 'lab report', 'lab run', 'lab summary', 'lab worker', 'report',
    ]);
  });
});
