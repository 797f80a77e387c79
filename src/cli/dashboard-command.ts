// `resnorm dashboard [RUN_DIR…]`: serves the live dashboard of some runs (src/dashboard/server.ts) until
// Ctrl-C. The checks a user can fail (no such directory, bad port, port in use) end in one line.

import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_PORT, DashboardError, startDashboard } from '../dashboard/server.ts';
import { UserError } from './errors.ts';
import { withoutBackend } from './backend-free.ts';

export interface DashboardCommandOptions {
  host: string;
  port: string;
}

export function registerDashboardCommand(program: Command): void {
  withoutBackend(program.command('dashboard'))
    .description('a live web page of runs (losses, diagnostics, samples), read-only; several runs overlay')
    .argument('[run-dirs...]', 'run directories, or folders of runs such as runs/ (default: runs/)')
    .option('--host <address>', 'address to listen on; any but a loopback one requires the access token in the printed URL', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port)', String(DEFAULT_PORT))
    .action((dirs: string[], opts: DashboardCommandOptions) => dashboardCommand(dirs, opts));
}

function checkDirs(dirs: string[]): void {
  for (const d of dirs) {
    if (!existsSync(d)) {
      throw new UserError(
        d === 'runs' || d === 'runs/'
          ? `${d} does not exist here: train a run first (resnorm train), or pass the run directories to show`
          : `${d}: no such directory; pass a run directory or a folder of runs (e.g. runs/)`,
      );
    }
    if (!statSync(d).isDirectory()) throw new UserError(`${d} is a file; pass a run directory or a folder of runs (e.g. runs/)`);
  }
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new UserError(`--port ${s}: expected a port number from 0 to 65535 (0 = any free port)`);
  return n;
}

export async function dashboardCommand(dirs: string[], opts: DashboardCommandOptions): Promise<void> {
  const runDirs = dirs.length > 0 ? dirs : ['runs'];
  checkDirs(runDirs);
  const port = parsePort(opts.port);
  let d;
  try {
    d = await startDashboard({ runDirs, host: opts.host, port, log: (line) => console.error(line) });
  } catch (e) {
    throw e instanceof DashboardError ? new UserError(e.message) : e;
  }
  console.log(`dashboard: ${d.url}`);
  console.log(`serving ${runDirs.join(', ')} read-only; new runs appear as they start. Ctrl-C stops.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
  process.exit(0); // the backend chosen by the preAction hook may hold worker threads
}
