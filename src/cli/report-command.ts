// `resnorm report RUN_DIR… [--out report.html]`: one self-contained HTML file of some runs (the
// dashboard's charts, config, final metrics and samples, several runs overlaid) that opens offline.

import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { buildReport } from '../dashboard/report.ts';
import { UserError } from './errors.ts';
import { withoutBackend } from './backend-free.ts';

export interface ReportOptions {
  out: string;
}

export function registerReportCommand(program: Command): void {
  withoutBackend(program.command('report'))
    .description('write one self-contained HTML file of some runs (charts, config, final metrics, samples) that opens offline from disk')
    .argument('<run-dirs...>', 'run directories, or folders of runs such as runs/')
    .option('--out <file>', 'the HTML file to write', 'report.html')
    .action((dirs: string[], opts: ReportOptions) => reportCommand(dirs, opts));
}

export async function reportCommand(dirs: string[], opts: ReportOptions): Promise<void> {
  for (const d of dirs) {
    if (!existsSync(d)) throw new UserError(`${d}: no such directory; pass run directories or folders of runs (e.g. runs/)`);
    if (!statSync(d).isDirectory()) throw new UserError(`${d} is a file; pass run directories or folders of runs (e.g. runs/)`);
  }
  if (existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new UserError(`--out ${opts.out} is a directory; pass the name of the HTML file to write, e.g. --out ${opts.out}/report.html`);
  const { html, data } = await buildReport(dirs, { log: (line) => console.error(line.replace(/^dashboard: /, 'report: ')) });
  if (data.runs.length === 0) {
    throw new UserError(`no runs in ${dirs.join(', ')}: a run directory holds run.json, checkpoints/ or metrics.jsonl (resnorm train writes them)`);
  }
  try {
    await writeFile(opts.out, html);
  } catch (e) {
    throw new UserError(`cannot write ${opts.out}: ${(e as Error).message}`);
  }
  const lines = data.files.reduce((n, f) => n + f.lines.length, 0);
  const kb = Math.round(Buffer.byteLength(html) / 1024);
  const names = data.runs.map((r) => r.name);
  const shown = names.length > 6 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
  console.log(`report: ${names.length} run${names.length === 1 ? '' : 's'} (${shown}), ${lines} log records, ${kb} KB`);
  console.log(`wrote ${opts.out}; it opens offline in any browser`);
}
