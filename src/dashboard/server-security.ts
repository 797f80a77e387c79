// Who may talk to the dashboard: the Host names that count as this server (refusing the rest defeats DNS
// rebinding), the access token a non-loopback server requires (in the URL once, then an HttpOnly cookie),
// and the headers every response carries. docs/dashboard-server.md gives the threat model.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

/** A dashboard that cannot start as asked (bad option, port in use); the message says what to do. */
export class DashboardError extends Error {
  override name = 'DashboardError';
}

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Headers on every response, errors included. */
export function setCommonHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  // No other origin may embed our responses (a <script src> of /api/… from an attacker's page).
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export function isLoopback(host: string): boolean {
  const h = bare(host);
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

export function isWildcard(host: string): boolean {
  return WILDCARDS.has(bare(host));
}

/** How a host is written in a URL or a Host header: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  const h = bare(host);
  return h.includes(':') ? `[${h}]` : h;
}

/** Host names (as in a Host header, lowercase, IPv6 bracketed) that name a server bound to `host`. */
export function allowedHostNames(host: string): Set<string> {
  const names = new Set([urlHost(host)]);
  const loopback = ['localhost', '127.0.0.1', '[::1]'];
  if (isLoopback(host)) for (const n of loopback) names.add(n);
  if (isWildcard(host)) {
    // Bound to every interface: any of this machine's addresses, its name, and loopback.
    for (const n of loopback) names.add(n);
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(urlHost(a.address.replace(/%.*$/, '')));
  }
  return names;
}

/** True when the Host header names this server: one of `names`, and exactly the bound port. */
export function hostMatches(header: string | undefined, names: ReadonlySet<string>, port: number): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return false;
  const p = m[2] === undefined ? 80 : Number(m[2]);
  return p === port && names.has(m[1].toLowerCase().replace(/\.$/, ''));
}

/** 24 random bytes, base64url: 32 characters safe in a URL and a cookie. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token the server will require, or null for none; refuses a non-loopback server without one. */
export function chooseToken(host: string, token: string | null | undefined): string | null {
  if (token === undefined) return isLoopback(host) ? null : generateToken();
  if (token === null) {
    if (!isLoopback(host)) throw new DashboardError(`a dashboard on ${host}, which is not a loopback address, must require an access token; leave the token to be generated`);
    return null;
  }
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(token)) throw new DashboardError('the dashboard access token must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -');
  return token;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time in the secret: both sides are hashed to the same length first. */
export function tokenEquals(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

/** Cookies are not scoped by port, so two dashboards on one machine each have their own name. */
export function cookieName(port: number): string {
  return `resnorm-dashboard-${port}`;
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export type AuthResult = 'ok' | 'set-cookie' | 'denied';

/**
 * Checks a request against the token: `?token=` (then the response sets the cookie, so that the page's
 * own fetches and EventSource carry it), the cookie, or `Authorization: Bearer` (for scripts).
 */
export function authenticate(req: IncomingMessage, query: URLSearchParams, token: string, port: number): AuthResult {
  const q = query.get('token');
  if (q !== null && tokenEquals(q, token)) return 'set-cookie';
  const c = cookieValue(req, cookieName(port));
  if (c !== null && tokenEquals(c, token)) return 'ok';
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && tokenEquals(auth.slice(7).trim(), token)) return 'ok';
  return 'denied';
}

export function tokenCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}
