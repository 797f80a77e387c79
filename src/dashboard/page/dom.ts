// Building the page's DOM. Text goes in only as text (textContent, or a Text node): nothing from a run
// file (run names, samples, tokens, config strings) is ever parsed as HTML, so a sample holding
// `<script>` or `<img onerror>` shows those characters and runs nothing. There is no innerHTML here.

type Child = Node | string | null | undefined | false;

export interface ElOptions {
  class?: string;
  /** Attributes (set with setAttribute: a value is never markup). */
  attrs?: Record<string, string>;
  text?: string;
  title?: string;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, o: ElOptions = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (o.class) e.className = o.class;
  if (o.attrs) for (const [k, v] of Object.entries(o.attrs)) e.setAttribute(k, v);
  if (o.text !== undefined) e.textContent = o.text;
  if (o.title !== undefined) e.title = o.title;
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** Replaces an element's children. */
export function setChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** A <select> of options (value = label unless given), calling back on change. */
export function select(options: readonly (string | [string, string])[], value: string, onChange: (v: string) => void, label?: string): HTMLSelectElement {
  const s = el('select', label ? { attrs: { 'aria-label': label } } : {});
  setOptions(s, options, value);
  s.addEventListener('change', () => onChange(s.value));
  return s;
}

/** Sets a <select>'s options, keeping its value when it is still offered, else the first. */
export function setOptions(s: HTMLSelectElement, options: readonly (string | [string, string])[], value = s.value): void {
  const pairs = options.map((o) => (typeof o === 'string' ? [o, o] : o));
  const same = s.options.length === pairs.length && pairs.every(([v, l], i) => s.options[i].value === v && s.options[i].text === l);
  if (!same) s.replaceChildren(...pairs.map(([v, l]) => el('option', { attrs: { value: v }, text: l })));
  const values = pairs.map(([v]) => v);
  s.value = values.includes(value) ? value : (values[0] ?? '');
}

/** Offers a string as a file download, through a Blob URL (nothing leaves the machine). */
export function download(name: string, type: string, body: string): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = el('a', { attrs: { href: url, download: name } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
