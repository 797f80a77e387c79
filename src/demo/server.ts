// The demo's HTTP server (node:http): a fixed set of files — the page, its engine worker, the wasm
// kernels, the sample text — and nothing else. No path from a request reaches the file system (the
// files are a map, looked up by the exact path sent), and nothing the user trains or loads leaves the
// browser. Every response is cross-origin isolated (COOP/COEP: the engine's threads share one
// SharedArrayBuffer), carries the dashboard's security headers and a strict CSP, and answers only to
// the Host names of the address it is bound to (DNS rebinding).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenHardened, reachableHost } from '../dashboard/http-server.ts';
import { allowedHostNames, hostMatches, isLoopback, setCommonHeaders, urlHost } from '../dashboard/server-security.ts';
import type { Asset } from './assets.ts';

/** A demo server that cannot start as asked (bad port, port in use); the message says what to do. */
export class DemoError extends Error {
  override name = 'DemoError';
}

export const DEFAULT_DEMO_PORT = 6008;

/**
 * The dashboard's policy, plus what the engine needs: 'wasm-unsafe-eval' to compile the kernels, and
 * workers from this origin (the engine) and from blob: URLs (its thread pool's Web Workers). No inline
 * script; inline styles only as uPlot sets them on its own elements.
 */
export const DEMO_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DemoOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 6008; 0 picks a free port. */
  port?: number;
  /** The files served; default: demoAssets() of ./assets.ts. */
  assets?: () => Promise<Map<string, Asset>>;
  /** Where the server's own messages go (a page that could not be built); default: nowhere. */
  log?: (line: string) => void;
}

export interface Demo {
  url: string;
  port: number;
  /**
   * Whether a browser on another machine gets threads: a page is cross-origin isolated only in a secure
   * context, which plain http is only on loopback (127.0.0.1, localhost).
   */
  loopback: boolean;
  close(): Promise<void>;
}

const MAX_URL = 4096;

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body + '\n');
}

/** Headers on every response, errors included: the dashboard's, its CSP replaced by the demo's, and isolation. */
function setDemoHeaders(res: ServerResponse): void {
  setCommonHeaders(res); // nosniff, no referrer, no framing, same-origin resource policy, COOP
  res.setHeader('Content-Security-Policy', DEMO_CSP);
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
}

async function defaultAssets(): Promise<Map<string, Asset>> {
  const m = await import('./assets.ts');
  return m.demoAssets();
}


export async function startDemo(o: DemoOptions = {}): Promise<Demo> {
  const host = o.host ?? '127.0.0.1';
  const wanted = o.port ?? DEFAULT_DEMO_PORT;
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new DemoError(`port ${wanted} is not a port number (0 to 65535)`);
  const log = o.log ?? (() => {});
  let assets: Promise<Map<string, Asset>> | null = null;
  const loadAssets = () =>
    (assets ??= (o.assets ?? defaultAssets)().catch((e: unknown) => {
      assets = null; // try again on the next request
      throw e;
    }));
  let port = wanted;
  let names = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setDemoHeaders(res);
    const url = req.url ?? '';
    if (!hostMatches(req.headers.host, names, port)) return text(res, 421, `421: this server answers only to ${urlHost(host)}:${port}`);
    if (url.length > MAX_URL) return text(res, 414, '414: URL too long');
    if (!url.startsWith('/')) return text(res, 400, '400: bad request target');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, '405: the demo serves its page only (GET and HEAD)', { Allow: 'GET, HEAD' });
    if (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0) {
      return text(res, 413, '413: a request body is not accepted', { Connection: 'close' });
    }
    const q = url.indexOf('?');
    // Matched as sent, never decoded: only the map's own paths name anything.
    const path = q < 0 ? url : url.slice(0, q);
    let map: Map<string, Asset>;
    try {
      map = await loadAssets();
    } catch (e) {
      log(`demo: the page could not be built: ${(e as Error).message}`);
      return text(res, 500, '500: the demo page could not be built; the server log says why');
    }
    const a = map.get(path);
    if (!a) return text(res, 404, '404: not found');
    const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
    res.writeHead(200, { 'Content-Type': a.type, 'Content-Length': String(body.byteLength), 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = await listenHardened('demo', handle, { host, port: wanted, log }, (msg) => new DemoError(msg));
  port = (server.address() as { port: number }).port;
  names = allowedHostNames(host);
  server.on('error', (e) => log(`demo: server error: ${e.message}`));
  void loadAssets().catch(() => {}); // build the page while the user opens it; a failure is reported on request

  let closing: Promise<void> | null = null;
  return {
    url: `http://${reachableHost(host)}:${port}/`,
    port,
    loopback: isLoopback(host),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
