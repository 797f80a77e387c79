// `resnorm demo`: serves the browser demo (src/demo/: train a small model in a tab, load and save runs)
// until Ctrl-C. The checks a user can fail (bad port, port in use, a host that is not here) end in one line.

import type { Command } from 'commander';
import { DEFAULT_DEMO_PORT, DemoError, startDemo } from '../demo/server.ts';
import { isWildcard } from '../dashboard/server-security.ts';
import { UserError } from './errors.ts';
import { withoutBackend } from './backend-free.ts';

export interface DemoCommandOptions {
  host: string;
  port: string;
}

export function registerDemoCommand(program: Command): void {
  withoutBackend(program.command('demo'))
    .description('serve a page that trains a small model in your browser tab (threads in a Web Worker), generates from it, loads run directories made by resnorm train and saves runs they can load')
    .option('--host <address>', 'address to listen on; threads need a loopback address (or https): elsewhere the page runs on one thread', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port)', String(DEFAULT_DEMO_PORT))
    .action((opts: DemoCommandOptions) => demoCommand(opts));
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new UserError(`--port ${s}: expected a port number from 0 to 65535 (0 = any free port)`);
  return n;
}

export async function demoCommand(opts: DemoCommandOptions): Promise<void> {
  const port = parsePort(opts.port);
  let d;
  try {
    d = await startDemo({ host: opts.host, port, log: (line) => console.error(line) });
  } catch (e) {
    throw e instanceof DemoError ? new UserError(e.message) : e;
  }
  console.log(`demo: ${d.url}`);
  if (!d.loopback) {
    // Browsers isolate (and so give SharedArrayBuffer to) secure contexts only: https, or http on loopback.
    const local = isWildcard(opts.host) ? ` (on this machine, http://127.0.0.1:${d.port}/ has them)` : '';
    console.log(`from another machine this plain-http page is not a secure context, so it trains on one thread${local}`);
  }
  console.log('the page trains in your browser; nothing it trains or loads is sent here. Ctrl-C stops.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
  process.exit(0); // the backend chosen by the preAction hook may hold worker threads
}
