// Verdicts: each claim of an experiment is decided from the per-seed results against criteria fixed
// in its definition before the run. A condition compares means over seeds; it passes, fails (the data
// show the opposite), or is unclear (within the noise, or too few runs). A claim is reproduced when
// every condition passes, not reproduced when any fails, inconclusive otherwise.

import { mean, pooledSd, sd } from './stats.ts';

/** A metric of one arm: its per-seed values. */
export interface Ref {
  arm: string;
  metric: string;
}

export type Condition =
  /** a < b: passes when mean(b) − mean(a) > max(k·pooled sd, minDiff); fails when mean(a) − mean(b) exceeds the same. */
  | { kind: 'less'; a: Ref; b: Ref; sd?: number; minDiff?: number }
  /** |mean(a) − mean(b)| ≤ tolerance passes; a larger difference that is also beyond k pooled sd fails. */
  | { kind: 'similar'; a: Ref; b: Ref; tolerance: number; sd?: number }
  /** a not worse than b: mean(a) − mean(b) ≤ tolerance passes; more than that and beyond k pooled sd fails. */
  | { kind: 'atMost'; a: Ref; b: Ref; tolerance: number; sd?: number }
  /** mean ≥ pass passes, mean < fail fails (fail ≤ pass). */
  | { kind: 'above'; ref: Ref; pass: number; fail: number }
  /** mean ≤ pass passes, mean > fail fails (fail ≥ pass). */
  | { kind: 'below'; ref: Ref; pass: number; fail: number }
  /** mean(a)/mean(b) inside [pass] passes, outside [fail] fails (fail contains pass). */
  | { kind: 'ratio'; a: Ref; b: Ref; pass: [number, number]; fail: [number, number] }
  /** Passes when any passes, fails when all fail. */
  | { kind: 'any'; of: Condition[] };

export type Outcome = 'pass' | 'fail' | 'unclear';
export const VERDICTS = ['reproduced', 'not reproduced', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ConditionResult {
  outcome: Outcome;
  /** The rule, in words. */
  criterion: string;
  /** The numbers it was decided on. */
  observed: string;
  children?: ConditionResult[];
}

export interface ClaimResult {
  verdict: Verdict;
  conditions: ConditionResult[];
}

/** What the verdicts read: each ref's per-seed values (non-finite ones left out), and its name in words. */
export interface Evidence {
  values(ref: Ref): number[];
  name(ref: Ref): string;
}

/** Fewer runs than this and a condition is unclear: a spread needs two. */
const MIN_RUNS = 2;

export function fmtNum(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

function summary(xs: readonly number[]): string {
  return `${fmtNum(mean(xs))} ± ${fmtNum(sd(xs), 2)} (n = ${xs.length})`;
}

export function evaluateCondition(c: Condition, ev: Evidence): ConditionResult {
  const tooFew = (criterion: string, refs: Ref[]): ConditionResult | null => {
    const short = refs.filter((r) => ev.values(r).length < MIN_RUNS);
    if (short.length === 0) return null;
    return { outcome: 'unclear', criterion, observed: `too few finite values: ${short.map((r) => `${ev.name(r)} has ${ev.values(r).length}`).join(', ')}` };
  };
  switch (c.kind) {
    case 'less': {
      const k = c.sd ?? 2;
      const floor = c.minDiff ? ` and by more than ${fmtNum(c.minDiff)}` : '';
      const criterion = `${ev.name(c.a)} below ${ev.name(c.b)} by more than ${k} pooled sd${floor}; the opposite by as much fails`;
      const early = tooFew(criterion, [c.a, c.b]);
      if (early) return early;
      const a = ev.values(c.a);
      const b = ev.values(c.b);
      const s = pooledSd(a, b);
      const margin = Math.max(k * s, c.minDiff ?? 0);
      const d = mean(b) - mean(a);
      const outcome: Outcome = d > margin ? 'pass' : -d > margin ? 'fail' : 'unclear';
      return { outcome, criterion, observed: `${summary(a)} vs ${summary(b)}: difference ${fmtNum(d)}, margin ${fmtNum(margin)} (pooled sd ${fmtNum(s, 2)})` };
    }
    case 'similar': {
      const k = c.sd ?? 2;
      const criterion = `${ev.name(c.a)} within ${fmtNum(c.tolerance)} of ${ev.name(c.b)}; a larger difference beyond ${k} pooled sd fails`;
      const early = tooFew(criterion, [c.a, c.b]);
      if (early) return early;
      const a = ev.values(c.a);
      const b = ev.values(c.b);
      const s = pooledSd(a, b);
      const d = Math.abs(mean(a) - mean(b));
      const outcome: Outcome = d <= c.tolerance ? 'pass' : d > k * s ? 'fail' : 'unclear';
      return { outcome, criterion, observed: `${summary(a)} vs ${summary(b)}: |difference| ${fmtNum(d)} (pooled sd ${fmtNum(s, 2)})` };
    }
    case 'atMost': {
      const k = c.sd ?? 2;
      const criterion = `${ev.name(c.a)} at most ${fmtNum(c.tolerance)} above ${ev.name(c.b)}; more than that and beyond ${k} pooled sd fails`;
      const early = tooFew(criterion, [c.a, c.b]);
      if (early) return early;
      const a = ev.values(c.a);
      const b = ev.values(c.b);
      const s = pooledSd(a, b);
      const d = mean(a) - mean(b);
      const outcome: Outcome = d <= c.tolerance ? 'pass' : d > k * s ? 'fail' : 'unclear';
      return { outcome, criterion, observed: `${summary(a)} vs ${summary(b)}: difference ${fmtNum(d)} (pooled sd ${fmtNum(s, 2)})` };
    }
    case 'above':
    case 'below': {
      const up = c.kind === 'above';
      const criterion = `mean ${ev.name(c.ref)} ${up ? '≥' : '≤'} ${fmtNum(c.pass)}; ${up ? 'below' : 'above'} ${fmtNum(c.fail)} fails`;
      const early = tooFew(criterion, [c.ref]);
      if (early) return early;
      const xs = ev.values(c.ref);
      const m = mean(xs);
      const outcome: Outcome = up ? (m >= c.pass ? 'pass' : m < c.fail ? 'fail' : 'unclear') : m <= c.pass ? 'pass' : m > c.fail ? 'fail' : 'unclear';
      return { outcome, criterion, observed: summary(xs) };
    }
    case 'ratio': {
      const [lo, hi] = c.pass;
      const [flo, fhi] = c.fail;
      const criterion = `${ev.name(c.a)} / ${ev.name(c.b)} in [${fmtNum(lo)}, ${fmtNum(hi)}]; outside [${fmtNum(flo)}, ${fmtNum(fhi)}] fails`;
      const early = tooFew(criterion, [c.a, c.b]);
      if (early) return early;
      const a = ev.values(c.a);
      const b = ev.values(c.b);
      const r = mean(a) / mean(b);
      const outcome: Outcome = r >= lo && r <= hi ? 'pass' : r < flo || r > fhi ? 'fail' : 'unclear';
      return { outcome, criterion, observed: `${summary(a)} / ${summary(b)} = ${fmtNum(r)}` };
    }
    case 'any': {
      const children = c.of.map((x) => evaluateCondition(x, ev));
      const outcome: Outcome = children.some((x) => x.outcome === 'pass') ? 'pass' : children.every((x) => x.outcome === 'fail') ? 'fail' : 'unclear';
      return { outcome, criterion: `any of: ${children.map((x) => `(${x.criterion})`).join(' or ')}`, observed: children.map((x) => `${x.outcome}: ${x.observed}`).join('; '), children };
    }
    default: {
      const never: never = c;
      throw new Error(`unknown condition ${JSON.stringify(never)}`);
    }
  }
}

/** Reproduced when every condition passes, not reproduced when any fails, inconclusive otherwise. */
export function evaluateClaim(conditions: readonly Condition[], ev: Evidence): ClaimResult {
  const results = conditions.map((c) => evaluateCondition(c, ev));
  const verdict: Verdict = results.some((r) => r.outcome === 'fail') ? 'not reproduced' : results.every((r) => r.outcome === 'pass') ? 'reproduced' : 'inconclusive';
  return { verdict, conditions: results };
}

/** Every ref a condition reads (to check a definition against its arms). */
export function refsOf(c: Condition): Ref[] {
  switch (c.kind) {
    case 'less':
    case 'similar':
    case 'atMost':
    case 'ratio':
      return [c.a, c.b];
    case 'above':
    case 'below':
      return [c.ref];
    case 'any':
      return c.of.flatMap(refsOf);
    default: {
      const never: never = c;
      throw new Error(`unknown condition ${JSON.stringify(never)}`);
    }
  }
}
