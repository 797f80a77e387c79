// The lab's summary table (README, docs/lab.md): one row per experiment with its finding and the
// verdict of every claim, linked to its report.

import type { Aggregate } from '../aggregate.ts';

/** Markdown rows `| [name](link) | finding | claim: verdict; … |` for the experiments given. */
export function summaryTable(aggs: readonly { agg: Aggregate; link: string; partial?: boolean }[]): string {
  const rows = aggs.map(({ agg, link, partial }) => {
    const claims = agg.claims.map((c) => `${c.claim.text}: **${c.result.verdict}**`).join('<br>');
    return `| [${agg.experiment.name}](${link})${partial ? ' (partial)' : ''} | ${agg.experiment.finding} | ${claims} |`;
  });
  return ['| experiment | finding | verdicts (quick mode) |', '|---|---|---|', ...rows].join('\n') + '\n';
}
