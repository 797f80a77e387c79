// The dashboard's HTTP server (node:http, read-only): the page's assets, the runs of the given
// directories and their files, and one Server-Sent Events stream per page. Safe to run in the process
// that trains: it polls a few lstats while a page is open and nothing when none is.
// API and security model: docs/dashboard-server.md.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RUN_FILES, RunTable, openInRun, runFilePath, type RunFile } from './runs-scan.ts';
import { EventHub, type EventTiming } from './server-events.ts';
import {
  DashboardError,
  allowedHostNames,
  authenticate,
  chooseToken,
  hostMatches,
  setCommonHeaders,
  tokenCookie,
  urlHost,
} from './server-security.ts';

export { DashboardError } from './server-security.ts';
export { describeListenError } from './http-server.ts';
import { listenHardened, reachableHost } from './http-server.ts';

export interface Asset {
  body: string | Uint8Array;
  /** Its Content-Type, e.g. 'text/javascript; charset=utf-8'. */
  type: string;
}
/** URL path ('/', '/app.js', …) → asset. */
export type AssetMap = Map<string, Asset>;

export interface DashboardOptions extends Partial<EventTiming> {
  /** Run directories, or directories whose subdirectories (one or two levels down) are runs. */
  runDirs: string[];
  /** Default 127.0.0.1. Any other than a loopback address requires the access token. */
  host?: string;
  /** Default 6007; 0 picks a free port. */
  port?: number;
  /** undefined: generated when the host is not loopback; a string: always required; null: none (loopback only). */
  token?: string | null;
  /** The page's files; default: dashboardAssets() of ./assets.ts. */
  assets?: () => Promise<AssetMap>;
  /** Where the server's own messages go (a link not served, a failed read); default: nowhere. */
  log?: (line: string) => void;
}

export interface Dashboard {
  /** The URL to open, with ?token=… when one is needed. */
  url: string;
  port: number;
  /** The access token the server requires, or null. */
  token: string | null;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 6007;
const DEFAULT_TIMING: EventTiming = { pollMs: 300, scanMs: 2000, heartbeatMs: 15_000, maxClients: 16 };
/** /api/runs rescans when its list is older than this. */
const RUNS_FRESH_MS = 1000;
const MAX_URL = 4096;
const FILE_ROUTE = /^\/api\/runs\/(r\d{1,6})\/([a-z.]+)$/;

const JSON_TYPE = 'application/json; charset=utf-8';
const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

function contentType(file: RunFile): string {
  return file.endsWith('.jsonl') ? NDJSON_TYPE : JSON_TYPE;
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': TEXT_TYPE, 'Cache-Control': 'no-store', ...headers });
  res.end(body + '\n');
}

async function defaultAssets(): Promise<AssetMap> {
  // Imported when first asked for: a server given its own assets (the tests) never loads the page's.
  const m = await import('./assets.ts');
  return m.dashboardAssets();
}



export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const host = o.host ?? '127.0.0.1';
  const wanted = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new DashboardError(`port ${wanted} is not a port number (0 to 65535)`);
  const token = chooseToken(host, o.token);
  const log = o.log ?? (() => {});
  const timing: EventTiming = { ...DEFAULT_TIMING, ...Object.fromEntries(Object.entries(o).filter(([k, v]) => k in DEFAULT_TIMING && v !== undefined)) };
  const table = new RunTable(o.runDirs, log);
  const hub = new EventHub(table, timing, log);
  let scannedAt = -Infinity;
  let lastScan: Promise<unknown> = Promise.resolve();
  const freshRuns = async () => {
    if (Date.now() - scannedAt >= RUNS_FRESH_MS) {
      scannedAt = Date.now();
      lastScan = table.scan();
    }
    await lastScan;
    return table.infos();
  };

  let assets: Promise<AssetMap> | null = null;
  const loadAssets = () =>
    (assets ??= Promise.resolve(o.assets ?? defaultAssets).then((f) => f()).catch((e: unknown) => {
      assets = null; // try again on the next request
      throw e;
    }));

  let port = wanted;
  let names = new Set<string>();

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/api/runs') {
      const body = JSON.stringify({ runs: await freshRuns() });
      res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    if (path === '/api/events') {
      res.setHeader('Cache-Control', 'no-store');
      await hub.accept(req, res);
      return;
    }
    const m = FILE_ROUTE.exec(path);
    if (m) {
      await freshRuns();
      const run = table.get(m[1]);
      const file = RUN_FILES.find((f) => f === m[2]);
      if (!run || !file) return text(res, 404, '404: no such run or file');
      const rel = await runFilePath(run.real, file);
      const fh = rel === null ? null : await openInRun(run.real, rel);
      if (!fh) return text(res, 404, `404: ${run.info.name} has no ${file}`);
      try {
        const { size } = await fh.stat();
        res.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': String(size), 'Cache-Control': 'no-store' });
        if (req.method === 'HEAD' || size === 0) return void res.end();
        // Up to the size just measured: a log that grows meanwhile keeps its Content-Length honest.
        const stream = fh.createReadStream({ start: 0, end: size - 1, autoClose: false });
        await new Promise<void>((resolve, reject) => {
          stream.on('error', reject);
          res.on('close', resolve);
          stream.pipe(res);
        });
      } finally {
        await fh.close();
      }
      return;
    }
    if (path.startsWith('/api/')) return text(res, 404, '404: no such API');
    let map: AssetMap;
    try {
      map = await loadAssets();
    } catch (e) {
      log(`dashboard: the page could not be built: ${(e as Error).message}`);
      return text(res, 500, '500: the dashboard page could not be built; the server log says why');
    }
    const a = map.get(path);
    if (!a) return text(res, 404, '404: not found');
    const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
    res.writeHead(200, { 'Content-Type': a.type, 'Content-Length': String(body.byteLength), 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setCommonHeaders(res);
    const url = req.url ?? '';
    // DNS rebinding: a page of evil.example whose name now points here still sends Host: evil.example.
    if (!hostMatches(req.headers.host, names, port)) return text(res, 421, `421: this server answers only to ${urlHost(host)}:${port}`);
    if (url.length > MAX_URL) return text(res, 414, '414: URL too long');
    if (!url.startsWith('/')) return text(res, 400, '400: bad request target');
    const q = url.indexOf('?');
    // The path is matched as sent, never decoded: %2e%2e, %2f, backslashes and NULs name nothing.
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (token !== null) {
      const auth = authenticate(req, query, token, port);
      if (auth === 'denied') return text(res, 401, '401: this dashboard needs its access token: open the URL it printed (with ?token=…)');
      if (auth === 'set-cookie') res.setHeader('Set-Cookie', tokenCookie(token, port));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, '405: the dashboard is read-only (GET and HEAD only)', { Allow: 'GET, HEAD' });
    // GET has no body; one announced is refused unread, and the connection closed.
    if (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0) {
      return text(res, 413, '413: a request body is not accepted', { Connection: 'close' });
    }
    await route(req, res, path);
  };

  const server = await listenHardened('dashboard', handle, { host, port: wanted, log }, (m) => new DashboardError(m));
  port = (server.address() as { port: number }).port;
  names = allowedHostNames(host);
  server.on('error', (e) => log(`dashboard: server error: ${e.message}`));
  void loadAssets().catch(() => {}); // build the page while the user opens it; a failure is reported on request
  void freshRuns().catch(() => {});

  const url = `http://${reachableHost(host)}:${port}/${token === null ? '' : `?token=${token}`}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    token,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
