// A report as a list of blocks (headings, paragraphs, tables, lists, figures, code), rendered both
// to Markdown (figures as SVG files beside it) and to one self-contained HTML page (figures inline).
// Inline markup in text is limited to **bold** and `code`.

import { escapeXml } from './svg.ts';

export type Block =
  | { kind: 'h'; level: 1 | 2 | 3; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'figure'; file: string; svg: string; caption: string }
  | { kind: 'code'; text: string };

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Markdown; a figure becomes an image link to `prefix + file`. */
export function toMarkdown(blocks: readonly Block[], prefix = ''): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'p':
        out.push(b.text);
        break;
      case 'list':
        out.push(b.items.map((i) => `- ${i}`).join('\n'));
        break;
      case 'table':
        out.push([`| ${b.head.map(mdCell).join(' | ')} |`, `|${b.head.map(() => '---').join('|')}|`, ...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n'));
        break;
      case 'figure':
        out.push(`![${b.caption}](${prefix}${b.file})\n\n*${b.caption}*`);
        break;
      case 'code':
        out.push('```\n' + b.text + '\n```');
        break;
      default: {
        const never: never = b;
        throw new Error(`unknown block ${JSON.stringify(never)}`);
      }
    }
  }
  return out.join('\n\n') + '\n';
}

/** Escapes, then turns **x** into <strong> and `x` into <code>. */
export function inlineHtml(s: string): string {
  return escapeXml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

const VERDICT_CLASS: Record<string, string> = { reproduced: 'ok', 'not reproduced': 'no', inconclusive: 'meh' };

function verdictSpans(html: string): string {
  return html.replace(/<strong>(reproduced|not reproduced|inconclusive)<\/strong>/g, (_, v: string) => `<strong class="v ${VERDICT_CLASS[v]}">${v}</strong>`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.92em}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}code,pre{background:#f6f6f6;font-family:ui-monospace,monospace;font-size:0.92em}pre{padding:0.6em;overflow-x:auto}
figure{margin:1em 0}figcaption{font-style:italic;color:#555}svg{max-width:100%;height:auto}
.v{padding:1px 6px;border-radius:4px}.ok{background:#d7f5dc}.no{background:#fadadd}.meh{background:#fff1c2}`;

/** One HTML page with its styles and figures inline: it opens from disk and makes no request. */
export function toHtml(blocks: readonly Block[], title: string): string {
  const body = blocks.map((b) => {
    switch (b.kind) {
      case 'h':
        return `<h${b.level}>${verdictSpans(inlineHtml(b.text))}</h${b.level}>`;
      case 'p':
        return `<p>${verdictSpans(inlineHtml(b.text))}</p>`;
      case 'list':
        return `<ul>${b.items.map((i) => `<li>${verdictSpans(inlineHtml(i))}</li>`).join('')}</ul>`;
      case 'table':
        return `<table><thead><tr>${b.head.map((h) => `<th>${inlineHtml(h)}</th>`).join('')}</tr></thead><tbody>${b.rows
          .map((r) => `<tr>${r.map((c) => `<td>${verdictSpans(inlineHtml(c))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`;
      case 'figure':
        return `<figure>${b.svg}<figcaption>${inlineHtml(b.caption)}</figcaption></figure>`;
      case 'code':
        return `<pre>${escapeXml(b.text)}</pre>`;
      default: {
        const never: never = b;
        throw new Error(`unknown block ${JSON.stringify(never)}`);
      }
    }
  });
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}
