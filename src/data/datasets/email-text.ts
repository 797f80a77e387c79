// The readable text of an e-mail: its Subject (RFC 2047 encoded words decoded) and the text of its
// body, with MIME parts decoded (quoted-printable, base64, charsets), HTML reduced to its text, and
// attachments dropped. Every other header is dropped: a classifier should read what a person reads,
// not relays and addresses, which record how each batch was collected (SpamAssassin's rewritten
// address spamassassin.taint.org is in the headers of 89% of easy-ham-1 but 17% of spam-2).

/** What a person reads of a message. */
export interface EmailText {
  subject: string;
  body: string;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

interface ContentType {
  type: string;
  params: Map<string, string>;
}

/** Messages nest (a forwarded message in a multipart); deeper than this is junk or an attack. */
const MAX_DEPTH = 8;

function splitPart(raw: string): Part {
  let end = raw.indexOf('\n\n');
  let bodyStart = end + 2;
  if (raw.startsWith('\n')) {
    end = 0; // no headers at all
    bodyStart = 1;
  } else if (end < 0) {
    end = raw.length;
    bodyStart = raw.length;
  }
  const headers = new Map<string, string>();
  const unfolded = raw.slice(0, end).replace(/\n[ \t]+/g, ' '); // RFC 5322 §2.2.3 folding
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // mbox's "From sender date" line, junk
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(bodyStart) };
}

function contentType(value: string | undefined): ContentType {
  // RFC 2045 §5.2: no Content-Type means text/plain; charset=us-ascii.
  if (!value) return { type: 'text/plain', params: new Map() };
  const [type, ...rest] = value.split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Labels seen in the SpamAssassin corpus that TextDecoder does not know, and what the senders meant. */
const CHARSET_ALIASES: Record<string, string> = { chinesebig5: 'big5', gb2312_charset: 'gb2312' };

/** Bytes in a charset → text; an unknown or missing charset reads as windows-1252 (WHATWG's Latin-1). */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  let label = (charset ?? '').split('*')[0].trim().toLowerCase(); // RFC 2231 charset*language
  label = CHARSET_ALIASES[label] ?? label;
  try {
    return new TextDecoder(label || 'windows-1252').decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

function binaryToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function decodeBase64(s: string): Uint8Array {
  let clean = s.replace(/[^A-Za-z0-9+/]/g, '');
  clean = clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0)); // a dangling sextet carries no byte
  try {
    return binaryToBytes(atob(clean));
  } catch {
    return new Uint8Array(0);
  }
}

/** A string → bytes: code units below 256 as themselves (QP and base64 text is ASCII), others as UTF-8. */
function textToBytes(s: string): Uint8Array {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u00ff]*$/.test(s)) return binaryToBytes(s);
  return new TextEncoder().encode(s);
}

/**
 * Quoted-printable (RFC 2045 §6.7) → bytes → text in the part's charset. Decoded as a whole, not
 * escape by escape: in Big5 or GBK the second byte of a character is often plain ASCII, left unescaped.
 */
export function decodeQuotedPrintable(s: string, charset: string | undefined): string {
  const text = s.replace(/=\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return decodeCharset(textToBytes(text), charset);
}

/** RFC 2047 encoded words (=?charset?Q|B?…?=), as in Subject lines; whitespace between two of them goes. */
export function decodeEncodedWords(s: string): string {
  const word = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
  return s.replace(/(=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)/g, '$1').replace(word, (_, charset: string, enc: string, text: string) => {
    if (enc.toUpperCase() === 'B') return decodeCharset(decodeBase64(text), charset);
    return decodeQuotedPrintable(text.replace(/_/g, ' '), charset);
  });
}

const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™', mdash: '—', ndash: '–',
  hellip: '…', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', middot: '·', bull: '•', euro: '€',
  pound: '£', cent: '¢', yen: '¥', sect: '§', deg: '°', plusmn: '±', times: '×', divide: '÷', iexcl: '¡', iquest: '¿',
};

function decodeEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});?/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** The text of an HTML document: scripts, styles, comments and the head go; block tags become line breaks. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<head\b[\s\S]*?(?:<\/head\s*>|(?=<body\b))/gi, ' ') // many spam pages never close their head
    .replace(/<(?:br|p|div|tr|li|h[1-6]|table|blockquote|hr|title)\b[^>]*>|<\/(?:p|div|tr|li|h[1-6]|table|blockquote)\s*>/gi, '\n')
    .replace(/<\/?[A-Za-z!][^>]*>/g, ' ');
  return decodeEntities(text).replace(/[ \t\u00a0]+/g, ' ');
}

/** A body that is an HTML document (starts with a doctype, <html>, <head> or <body>) whatever its label says. */
const LOOKS_HTML = /^\s*<(?:!doctype\s+html|html|head|body)\b/i;

function decodeBody(part: Part, ct: ContentType): string {
  const cte = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase();
  const charset = ct.params.get('charset');
  if (cte === 'base64') return decodeCharset(decodeBase64(part.body), charset);
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.body, charset);
  return part.body; // 7bit, 8bit, binary: already text in the package's strings
}

function isAttachment(part: Part): boolean {
  return /^\s*attachment/i.test(part.headers.get('content-disposition') ?? '');
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  const delimiter = `--${boundary}`;
  let current: string[] | null = null; // null: still in the preamble
  for (const line of body.split('\n')) {
    const t = line.trimEnd();
    if (t === delimiter || t === `${delimiter}--`) {
      if (current) parts.push(current.join('\n'));
      if (t.endsWith('--') && t !== delimiter) return parts; // the epilogue is not content
      current = [];
    } else if (current) current.push(line);
  }
  if (current) parts.push(current.join('\n')); // a missing closing delimiter: keep what came
  return parts;
}

/** The text of a MIME entity, with the content type it came from ('plain' or 'html'), or null if none. */
function partText(part: Part, depth: number): { kind: 'plain' | 'html'; text: string } | null {
  if (depth > MAX_DEPTH) return null;
  const ct = contentType(part.headers.get('content-type'));
  const boundary = ct.params.get('boundary');
  if (ct.type.startsWith('multipart/') && boundary) {
    const children = splitMultipart(part.body, boundary)
      .map((raw) => splitPart(raw))
      .filter((p) => !isAttachment(p))
      .map((p) => partText(p, depth + 1))
      .filter((t): t is { kind: 'plain' | 'html'; text: string } => t !== null && t.text.trim().length > 0);
    if (children.length === 0) return null;
    // multipart/alternative holds one content several ways: read the plain one when there is one.
    if (ct.type === 'multipart/alternative') return children.find((c) => c.kind === 'plain') ?? children[0];
    return { kind: children.every((c) => c.kind === 'html') ? 'html' : 'plain', text: children.map((c) => c.text).join('\n\n') };
  }
  if (ct.type === 'message/rfc822') return partText(splitPart(part.body), depth + 1);
  if (ct.type === 'text/html') return { kind: 'html', text: htmlToText(decodeBody(part, ct)) };
  if (ct.type.startsWith('text/') || ct.type.startsWith('multipart/')) {
    const text = decodeBody(part, ct);
    // Much spam sends an HTML page with no Content-Type, or as text/plain; a reader sees it rendered.
    return LOOKS_HTML.test(text) ? { kind: 'html', text: htmlToText(text) } : { kind: 'plain', text };
  }
  return null; // images, applications, signatures
}

/** \n line ends (decoded parts bring their own \r\n), no trailing spaces, at most one blank line in a row. */
export function tidyText(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/[ \t\u00a0]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function emailToText(raw: string): EmailText {
  const root = splitPart(raw.replace(/\r\n?/g, '\n'));
  const subject = tidyText(decodeEncodedWords(root.headers.get('subject') ?? '').replace(/\s+/g, ' '));
  return { subject, body: tidyText(partText(root, 0)?.text ?? '') };
}
