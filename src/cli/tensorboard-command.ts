// `resnorm export-tensorboard RUN_DIR DIR`: a run's metrics.jsonl and diagnostics.jsonl as one
// TensorBoard event file in DIR, for runs trained without --tensorboard (docs/tensorboard.md).

import type { Command } from 'commander';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsErrorCode } from '../io/run-fs.ts';
import { runEvents } from '../io/tensorboard/run-summaries.ts';
import { UserError } from './errors.ts';
import { openRun } from './run-dir.ts';
import { isEventFileName, TensorBoardWriter } from './tensorboard-writer.ts';
import { withoutBackend } from './backend-free.ts';

export function registerTensorBoardCommand(program: Command): void {
  withoutBackend(program.command('export-tensorboard'))
    .description("write a run's metrics and diagnostics as a TensorBoard event file (then: tensorboard --logdir DIR)")
    .argument('<run-dir>', 'a run directory written by resnorm train')
    .argument('<dir>', 'directory for the event file, created if needed; one directory per run (e.g. tb/<run name>)')
    .action((runDir: string, dir: string) => exportTensorBoardCommand(runDir, dir));
}

interface Log {
  records: Record<string, unknown>[];
  /** Lines that do not parse as a JSON object: a torn last line, or damage. */
  skipped: number;
  /** Unix seconds of the last write (the file's mtime); null when the log does not exist. */
  end: number | null;
}

function readLog(path: string): Log {
  let text: string;
  let end: number;
  try {
    text = readFileSync(path, 'utf8');
    end = statSync(path).mtimeMs / 1000;
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') return { records: [], skipped: 0, end: null };
    throw e;
  }
  const log: Log = { records: [], skipped: 0, end };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      r = null;
    }
    if (typeof r === 'object' && r !== null && !Array.isArray(r)) log.records.push(r as Record<string, unknown>);
    else log.skipped++;
  }
  return log;
}

function existingEventFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter(isEventFileName);
  } catch {
    return []; // absent, or not a directory: TensorBoardWriter.open says which
  }
}

export async function exportTensorBoardCommand(runDir: string, dir: string): Promise<void> {
  await openRun(runDir); // refuses, by name, what is not a run directory
  const metrics = readLog(join(runDir, 'metrics.jsonl'));
  const diagnostics = readLog(join(runDir, 'diagnostics.jsonl'));
  // Without its mtime, a log's last record is taken as written now.
  const now = Date.now() / 1000;
  const events = runEvents({
    metrics: metrics.records,
    diagnostics: diagnostics.records,
    metricsEnd: metrics.end ?? now,
    diagnosticsEnd: diagnostics.end ?? now,
  });
  if (events.length === 0) throw new UserError(`${runDir} has no metrics or diagnostics records yet; nothing to export`);
  const existing = existingEventFiles(dir);
  if (existing.length > 0) {
    // TensorBoard reads every event file of a directory as one run: a second export would double it.
    throw new UserError(`${dir} already holds TensorBoard event files (${existing[0]}${existing.length > 1 ? `, and ${existing.length - 1} more` : ''}); remove them, or export into another directory`);
  }
  const writer = TensorBoardWriter.open(dir, { startTime: events[0].wallTime });
  try {
    writer.events(events);
  } finally {
    writer.close();
  }
  for (const [name, log] of [['metrics.jsonl', metrics], ['diagnostics.jsonl', diagnostics]] as const) {
    if (log.skipped > 0) console.log(`skipped ${log.skipped} line${log.skipped > 1 ? 's' : ''} of ${name} that did not parse (torn by an interrupted write, or damaged)`);
  }
  const points = events.reduce((n, e) => n + (e.summary?.filter((v) => 'simpleValue' in v).length ?? 0), 0);
  const histograms = events.reduce((n, e) => n + (e.summary?.filter((v) => 'histo' in v).length ?? 0), 0);
  const first = events.reduce((n, e) => Math.min(n, e.step), Infinity);
  const last = events.reduce((n, e) => Math.max(n, e.step), 0);
  console.log(`wrote ${events.length} events (${points} scalar points, ${histograms} histograms, steps ${first}–${last}) to ${writer.path}`);
  console.log(`view them with: tensorboard --logdir ${dir}`);
}
