// Commands that need no compute backend, marked where each is registered: they only read, convert or
// serve files, or (the lab) schedule processes that start backends of their own. main.ts starts the
// backend before any other command's action; a mark on a parent (lab) covers its subcommands.

import type { Command } from 'commander';

const backendFree = new WeakSet<Command>();

/** Marks `command` (and its subcommands) as running without a compute backend; returns it. */
export function withoutBackend(command: Command): Command {
  backendFree.add(command);
  return command;
}

export function needsBackend(command: Command): boolean {
  for (let c: Command | null = command; c; c = c.parent) if (backendFree.has(c)) return false;
  return true;
}
