// Alignments of two token sequences: the Levenshtein edit distance (the error rates' numerator) and the
// longest common subsequence (ROUGE-L's). Tokens compare with ===; a string compares by UTF-16 unit.

/**
 * Levenshtein distance: the fewest insertions, deletions and substitutions (each costing 1) that turn
 * `a` into `b`. No transpositions. Equals nltk.edit_distance(a, b) (checked against NLTK 3.8).
 */
export function editDistance<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  // Two rows of the (|a|+1) × (|b|+1) table, indexed by j over b.
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (ai === b[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * Length of a longest common subsequence of `a` and `b` (not necessarily contiguous), the DP table of
 * Lin 2004 §3.1 as rouge-score's _lcs_table. Checked through |a| + |b| − 2·LCS = the insert/delete-only
 * edit distance (NLTK's edit_distance with substitution_cost=2).
 */
export function lcsLength<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) cur[j] = ai === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}
