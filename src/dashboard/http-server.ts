// What the dashboard's and the demo's HTTP servers share: a server with limits on headers, time and
// connections that answers a failed handler with a bare 500 and a malformed request with 400/431, the
// message for a port it cannot listen on, and the address to print for it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { isWildcard, urlHost } from './server-security.ts';

/** What to tell a user whose server cannot listen; `what` names the server (the demo's says 'demo'). */
export function describeListenError(e: NodeJS.ErrnoException, host: string, port: number, what = 'dashboard'): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is in use (by another ${what}, or another program); pass --port with another port, or --port 0 for any free one`;
    case 'EACCES':
      return `no permission to listen on port ${port} on ${host} (ports below 1024 need privileges); pass --port with one above 1024`;
    case 'EADDRNOTAVAIL':
      return `--host ${host} is not an address of this machine; pass one of its addresses, 0.0.0.0 for all, or leave it at 127.0.0.1`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `--host ${host}: no such host name`;
    default:
      return `cannot listen on ${host}:${port}: ${e.message}`;
  }
}

/** The address to print for a server bound to every interface: the first external IPv4, else loopback. */
export function reachableHost(host: string): string {
  if (!isWildcard(host)) return urlHost(host);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/**
 * Listens on host:port with `handle` for every request; `name` prefixes the log lines, and a listen
 * failure rejects with `toError(describeListenError(…))`.
 */
export async function listenHardened(name: string, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  o: { host: string; port: number; log: (line: string) => void }, toError: (message: string) => Error): Promise<Server> {
  const server: Server = createServer({ maxHeaderSize: 16 << 10, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.log(`${name}: ${req.method} ${(req.url ?? '').slice(0, 200)} failed: ${(e as Error)?.message ?? e}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end('500: internal error\n');
      else res.destroy();
    });
  });
  server.maxConnections = 256;
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    const status = e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(toError(describeListenError(e, o.host, o.port, name))));
    server.listen({ host: o.host, port: o.port }, () => resolve());
  });
  return server;
}
