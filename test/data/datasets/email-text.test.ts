// email-text: the Subject and body text of synthetic messages: headers dropped, encoded words,
// quoted-printable and base64 in several charsets, multipart choices, HTML, attachments.
import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, decodeQuotedPrintable, emailToText, htmlToText } from '../../../src/data/datasets/email-text.ts';

const msg = (...lines: string[]) => lines.join('\r\n');

describe('emailToText', () => {
  it('keeps the Subject and the body, and no other header (folded headers included)', () => {
    const t = emailToText(
      msg('From someone@example.com  Wed Aug 21 2002', 'Received: from relay.example.com', '\tby mx.example.com', 'Subject: Re: New', ' Sequences Window', 'X-Spam-Status: No', '', 'Hello   ', '', '', '', 'there'),
    );
    expect(t).toEqual({ subject: 'Re: New Sequences Window', body: 'Hello\n\nthere' });
  });
  it('decodes RFC 2047 subjects in Q and B form, joining adjacent encoded words', () => {
    expect(decodeEncodedWords('=?iso-8859-1?Q?Caf=E9_cr=E8me?= =?utf-8?B?4pyT?= done')).toBe('Café crème✓ done');
    expect(emailToText(msg('Subject: =?big5?B?pnKmcg==?=', '', 'x')).subject).toBe('字字');
    expect(decodeEncodedWords('=?x-unknown?Q?caf=E9?=')).toBe('café'); // unknown charset → windows-1252
  });
  it('decodes quoted-printable bodies as a whole in their charset (Big5 trail bytes are ASCII)', () => {
    // 您 is B1 7A in Big5: the 0x7A ("z") is not escaped in quoted-printable (spam-2/00006 reads so).
    expect(decodeQuotedPrintable('=B1z=C1=D9 =\nsoft break', 'CHINESEBIG5')).toBe('您還 soft break');
    const t = emailToText(msg('Content-Type: text/plain; charset="utf-8"', 'Content-Transfer-Encoding: quoted-printable', '', 'na=C3=AFve =3D equal'));
    expect(t.body).toBe('naïve = equal');
  });
  it('decodes base64 parts', () => {
    const b64 = btoa(String.fromCharCode(...new TextEncoder().encode('Grüße aus Köln\r\n')));
    const t = emailToText(msg('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64.slice(0, 8), b64.slice(8)));
    expect(t.body).toBe('Grüße aus Köln');
  });
  it('reads the plain part of multipart/alternative, HTML when there is no plain one, and drops attachments', () => {
    const alt = msg(
      'Subject: offer',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      'preamble is not content',
      '--b1',
      'Content-Type: text/html',
      '',
      '<p>HTML version</p>',
      '--b1',
      'Content-Type: text/plain',
      '',
      'plain version',
      '--b1--',
      'epilogue',
    );
    expect(emailToText(alt)).toEqual({ subject: 'offer', body: 'plain version' });
    const mixed = msg(
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/html; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<html><head><title>t</title><style>p{}</style></head><body><p>Buy&nbsp;now &amp; save =A3100</p><script>x()</script></body></html>',
      '--inner--',
      '--outer',
      'Content-Type: text/plain',
      'Content-Disposition: attachment; filename="a.txt"',
      '',
      'attached text is not read',
      '--outer',
      'Content-Type: image/gif',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--outer--',
    );
    expect(emailToText(mixed).body).toBe('Buy now & save £100');
  });
  it('reads a forwarded message (message/rfc822) and an HTML page sent without a Content-Type', () => {
    const fwd = msg('Content-Type: multipart/mixed; boundary=z', '', '--z', 'Content-Type: text/plain', '', 'see below', '--z', 'Content-Type: message/rfc822', '', 'Subject: inner', 'From: a@b', '', 'inner body', '--z--');
    expect(emailToText(fwd).body).toBe('see below\n\ninner body');
    expect(emailToText(msg('Subject: s', '', '<HTML><BODY>Click <A HREF="x">here</A><BR>now&#33; &#x263A;</BODY></HTML>')).body).toBe('Click here\nnow! ☺');
  });
  it('copes with no headers, no body, and no closing boundary', () => {
    expect(emailToText('\nbody only')).toEqual({ subject: '', body: 'body only' });
    expect(emailToText('Subject: only')).toEqual({ subject: 'only', body: '' });
    expect(emailToText(msg('Content-Type: multipart/mixed; boundary=q', '', '--q', '', 'unterminated')).body).toBe('unterminated');
  });
});

describe('htmlToText', () => {
  it('drops comments, scripts, styles and the head; block tags break lines; entities decode', () => {
    expect(htmlToText('<!-- hidden --><div>a&lt;b</div><div>&copy; &unknown; &#0;</div>').trim()).toBe('a<b\n\n© &unknown; &#0;');
  });
  it('keeps the body of a page whose head is never closed', () => {
    expect(htmlToText('<html><head><title>x</title><meta a=b><body>kept text</body></html>').trim()).toBe('kept text');
  });
});
