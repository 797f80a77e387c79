// The one error type the dataset parsers throw (a malformed line, a corrupt IDX header, an unknown
// label), so the CLI can report exactly these as the user's problem, with the file and the line.

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** `file, line 7: …` — the prefix every line-level error starts with. */
export function at(source: string, line: number): string {
  return `${source}, line ${line}`;
}

/** A short, printable form of a value in an error (long text cut, control characters escaped). */
export function quote(s: string, max = 40): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}
