// N-gram counting shared by BLEU and ROUGE. Tokens are interned to integers first, so an n-gram's key
// ("3 17 5") cannot collide with another's whatever characters the tokens themselves contain.

/** Interns tokens as small integers; one instance per comparison so that equal tokens get equal ids. */
export class TokenIds {
  private readonly ids = new Map<string, number>();

  of(tokens: readonly string[]): number[] {
    return tokens.map((t) => {
      let id = this.ids.get(t);
      if (id === undefined) this.ids.set(t, (id = this.ids.size));
      return id;
    });
  }
}

/** Occurrences of every n-gram (window of n consecutive ids) of `ids`; empty when ids.length < n. */
export function ngramCounts(ids: readonly number[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= ids.length; i++) {
    const key = ids.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Σ over the n-grams of `counts` of min(count, other's count): the clipped overlap of two multisets. */
export function clippedOverlap(counts: ReadonlyMap<string, number>, other: ReadonlyMap<string, number>): number {
  let overlap = 0;
  for (const [key, c] of counts) overlap += Math.min(c, other.get(key) ?? 0);
  return overlap;
}

/** Σ of a count map's values. */
export function totalCount(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const c of counts.values()) total += c;
  return total;
}
