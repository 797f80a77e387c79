// Training progress: a live bar on a terminal (cli-progress), plain log lines otherwise (CI, pipes).

import cliProgress from 'cli-progress';

export interface ProgressFields {
  step: number;
  loss: number;
  val: number | null;
  tokensPerSec: number;
}

export interface Progress {
  update(f: ProgressFields): void;
  log(line: string): void;
  stop(): void;
}

/** `unit`: what the throughput counts ('tok' for the language model, 'ex' for examples of the other tasks). */
export function createProgress(total: number, start: number, logInterval: number, unit = 'tok'): Progress {
  const fmt = (f: ProgressFields) =>
    `step ${f.step}/${total} | loss ${f.loss.toFixed(4)} | val ${f.val === null ? '—' : f.val.toFixed(4)} | ${Math.round(f.tokensPerSec)} ${unit}/s`;
  if (!process.stdout.isTTY) {
    return {
      update: (f) => {
        if (f.step % logInterval === 0 || f.step === total) console.log(fmt(f));
      },
      log: (line) => console.log(line),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '{bar} {percentage}% | {info} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, start, { info: 'starting…' });
  return {
    update: (f) => bar.update(f.step, { info: fmt(f) }),
    log: (line) => {
      // Print above the bar: clear its line, write, let the next update redraw it.
      process.stdout.write('\r\x1b[K' + line + '\n');
    },
    stop: () => bar.stop(),
  };
}
