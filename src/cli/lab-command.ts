// `resnorm lab`: experiments that reproduce the published findings on residual connections and
// normalization, with computed verdicts. `lab list` shows them; `lab run NAME` runs one (resumable:
// finished jobs are kept, a killed job continues from its last checkpoint) on a pool of worker
// processes and writes lab/NAME/report.md and report.html; `lab report NAME` re-renders a report
// from the stored results, into lab/ or into docs/lab/.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { aggregate } from '../lab/aggregate.ts';
import { LAB_MODES, type Experiment, type LabMode } from '../lab/experiment.ts';
import { EXPERIMENTS, findExperiment } from '../lab/experiments/index.ts';
import type { JobResult } from '../lab/job.ts';
import { definitionProblems, expandJobs, LabPlanError, planProblems, type JobSpec } from '../lab/plan.ts';
import { renderReport, verdictLine, type ReportContext } from '../lab/report/report.ts';
import { summaryTable } from '../lab/report/summary.ts';
import { UserError } from './errors.ts';
import { currentCommit, ensureDirs, labPaths, machineInfo, readResult, resultPath, writeAtomic, type LabPaths } from './lab-files.ts';
import { runPool } from './lab-pool.ts';
import { labWorker } from './lab-worker.ts';
import { withoutBackend } from './backend-free.ts';

interface RunOptions {
  quick?: boolean;
  full?: boolean;
  seeds?: string;
  jobs?: string;
  threadsPerJob?: string;
  out: string;
  steps?: string;
  keepCheckpoints?: boolean;
  fresh?: boolean;
}

/**
 * The CLI runs compiled JavaScript, with no TypeScript loader: a .ts experiment module is loaded
 * through tsx when it is installed (a checkout has it, as a development dependency), and otherwise
 * the user is told how to load it.
 */
async function registerTypeScript(name: string): Promise<void> {
  try {
    const spec = 'tsx/esm/api'; // a variable: the compiled CLI must not need tsx to start
    const { register } = (await import(spec)) as { register: () => unknown };
    register();
  } catch {
    throw new UserError(`${name} is TypeScript, and loading it needs tsx (npm install --save-dev tsx); or write the experiment as a .mjs module`);
  }
}

/** A built-in experiment by name, or one defined in a module (`./my-experiment.ts`, exporting `experiment` or a default). */
async function experimentOf(name: string): Promise<Experiment> {
  if (/\.(ts|js|mjs)$/.test(name)) {
    if (!existsSync(name)) throw new UserError(`${name}: no such file`);
    if (name.endsWith('.ts')) await registerTypeScript(name);
    const mod = (await import(pathToFileURL(resolve(name)).href)) as { experiment?: Experiment; default?: Experiment };
    const e = mod.experiment ?? mod.default;
    if (!e || typeof e !== 'object' || !('plans' in e)) throw new UserError(`${name} exports no experiment: export const experiment: Experiment = { … } (see src/lab/experiment.ts)`);
    const problems = definitionProblems(e);
    if (problems.length > 0) throw new UserError(`${name}: ${problems.join('; ')}`);
    return e;
  }
  const e = findExperiment(name);
  if (!e) throw new UserError(`no experiment '${name}'; resnorm lab list shows them: ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
  return e;
}

function modeOf(o: { quick?: boolean; full?: boolean }): LabMode {
  if (o.quick && o.full) throw new UserError('--quick and --full exclude each other');
  return o.full ? 'full' : 'quick';
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** The experiment with every arm's maxIters set to `steps` (--steps: a smoke test of the whole pipeline). */
function withSteps(exp: Experiment, steps: number | undefined): Experiment {
  if (steps === undefined) return exp;
  const plans = Object.fromEntries(
    LAB_MODES.map((m) => {
      const p = exp.plans[m];
      const every = Math.max(1, Math.floor(steps / 2));
      return [m, { ...p, base: { ...p.base, maxIters: steps, evalInterval: every, warmupIters: Math.min(Number(p.base.warmupIters ?? 0), steps) }, arms: p.arms.map((a) => ({ ...a, config: { ...a.config, ...('maxIters' in a.config ? { maxIters: steps, evalInterval: every } : {}), ...('warmupIters' in a.config ? { warmupIters: Math.min(Number(a.config.warmupIters), steps) } : {}) } })) }];
    }),
  ) as unknown as Experiment['plans'];
  return { ...exp, plans };
}

/** The command line that reproduces a run (the options that change its numbers). */
function commandOf(name: string, mode: LabMode, seeds: number | undefined, steps: number | undefined): string {
  return ['resnorm lab run', name, `--${mode}`, seeds !== undefined ? `--seeds ${seeds}` : '', steps !== undefined ? `--steps ${steps}` : ''].filter(Boolean).join(' ');
}

function loadResults(p: LabPaths, jobs: readonly JobSpec[]): { results: JobResult[]; missing: string[] } {
  const results: JobResult[] = [];
  const missing: string[] = [];
  for (const j of jobs) {
    const r = readResult(resultPath(p, j), j);
    if (r) results.push(r);
    else missing.push(j.id);
  }
  return { results, missing };
}

/** Writes report.md, report.html and the figures; into `dir`, with the Markdown's figure links under `prefix`. */
function writeReport(exp: Experiment, mode: LabMode, results: JobResult[], ctx: ReportContext, files: { md: string; html: string; figDir: string; prefix: string }): string {
  const agg = aggregate(exp, mode, results);
  const r = renderReport(agg, ctx, files.prefix);
  mkdirSync(files.figDir, { recursive: true });
  for (const f of readdirSync(files.figDir)) if (/^fig-\d+\.svg$/.test(f)) rmSync(join(files.figDir, f));
  for (const f of r.figures) writeFileSync(join(files.figDir, f.file), f.svg);
  writeFileSync(files.md, r.markdown);
  writeFileSync(files.html, r.html);
  return verdictLine(agg);
}

/** What `lab run` records about how it ran, for `lab report` to state later. */
interface RunContext {
  commit: string;
  threads: number;
  processes: number;
  backend: string;
  /** The 1-minute load average when the run started and when it ended. */
  load: [number, number];
}

function readRunContext(p: LabPaths): RunContext | null {
  try {
    return JSON.parse(readFileSync(join(p.modeDir, 'lab-run.json'), 'utf8')) as RunContext;
  } catch {
    return null;
  }
}

function reportContext(exp: Experiment, seeds: number, command: string, missing: string[], threads: number, processes: number, backend: string, stored: RunContext | null): ReportContext {
  const m = machineInfo();
  return {
    seeds,
    command,
    commit: stored?.commit ?? currentCommit(),
    missing,
    machine: exp.timing ? { cpu: m.cpu, cores: m.cores, node: m.node, threadsPerProcess: stored?.threads ?? threads, processes, backend: stored?.backend ?? backend, load: stored?.load } : undefined,
  };
}

async function runCommand(name: string, o: RunOptions, globals: { backend?: string; threads?: string }): Promise<void> {
  const steps = positiveInt(o.steps, '--steps');
  const exp = withSteps(await experimentOf(name), steps);
  const mode = modeOf(o);
  const seedsFlag = positiveInt(o.seeds, '--seeds');
  const seeds = seedsFlag ?? exp.plans[mode].seeds;
  let jobs: JobSpec[];
  try {
    jobs = expandJobs(exp, mode, seeds);
  } catch (e) {
    if (e instanceof LabPlanError) throw new UserError(e.message);
    throw e;
  }
  if (seeds < 3) console.log(`note: ${seeds} seed(s); verdicts need a spread over at least 2, and the issue asks for 3`);
  const cores = cpus().length;
  const processes = positiveInt(o.jobs, '--jobs') ?? cores;
  const threads = positiveInt(o.threadsPerJob, '--threads-per-job') ?? positiveInt(globals.threads, '--threads') ?? Math.max(1, Math.floor(cores / processes));
  const backend = globals.backend ?? 'auto';
  const p = labPaths(o.out, exp.name, mode, steps);
  if (o.fresh) rmSync(p.modeDir, { recursive: true, force: true });
  ensureDirs(p);
  const pending = jobs.filter((j) => readResult(resultPath(p, j), j) === null);
  const command = commandOf(exp.name, mode, seedsFlag, steps);
  console.log(`${exp.name} (${mode}): ${jobs.length} jobs (${exp.plans[mode].arms.length} arms × ${seeds} seeds); ${jobs.length - pending.length} already done in ${p.modeDir}`);
  const t0 = performance.now();
  const load0 = loadavg()[0];
  if (pending.length > 0) {
    const timing = pending.filter((j) => j.timing).length;
    console.log(`running ${pending.length} on ${Math.min(processes, Math.max(1, pending.length - timing))} process(es) × ${threads} thread(s)${timing > 0 ? `; ${timing} timing job(s) last, one at a time` : ''}`);
    let finished = 0;
    const outcome = await runPool(
      pending.map((job) => ({ job, runDir: join(p.runs, job.id), resultPath: resultPath(p, job) })),
      {
        processes,
        threadsPerProcess: threads,
        backend,
        logDir: p.logs,
        keepCheckpoints: o.keepCheckpoints === true,
        onEvent: (e) => {
          if (e.type === 'done') {
            finished++;
            const loss = e.diverged ? 'diverged' : e.finalValLoss === null ? 'measured' : `val ${e.finalValLoss.toFixed(4)}`;
            console.log(`[${finished}/${pending.length}] ${e.id}: ${loss} (${e.wallSeconds.toFixed(1)} s${e.resumedAt !== null ? `, resumed at step ${e.resumedAt}` : ''})`);
          } else if (e.type === 'failed') {
            console.log(`${e.id} failed: ${e.message.split('\n')[0]}`);
          }
        },
      },
    );
    const context: RunContext = { commit: currentCommit(), threads, processes, backend: outcome.backend ?? backend, load: [load0, loadavg()[0]] };
    writeAtomic(join(p.modeDir, 'lab-run.json'), JSON.stringify(context) + '\n');
    if (outcome.stopped) {
      console.log(`stopped; finished jobs are kept and running ones saved a checkpoint. Continue with: ${command}`);
      process.exitCode = 130;
      return;
    }
    if (outcome.failed.length > 0) {
      for (const f of outcome.failed) console.error(`job ${f.id} failed:\n${f.message}`);
    }
  }
  const { results, missing } = loadResults(p, jobs);
  const ctx = reportContext(exp, seeds, command, missing, threads, 1, backend, readRunContext(p));
  const verdicts = writeReport(exp, mode, results, ctx, { md: join(p.root, 'report.md'), html: join(p.root, 'report.html'), figDir: p.root, prefix: '' });
  console.log(`report: ${join(p.root, 'report.md')} and report.html — ${verdicts}`);
  console.log(`wall time: ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  if (missing.length > 0) throw new UserError(`${missing.length} job(s) have no result (${missing.join(', ')}); the report is partial. See ${p.logs} and run the same command again.`);
}

async function reportCommand(name: string, o: { quick?: boolean; full?: boolean; seeds?: string; steps?: string; out: string; docs?: string }, globals: { backend?: string; threads?: string }): Promise<void> {
  const steps = positiveInt(o.steps, '--steps');
  const exp = withSteps(await experimentOf(name), steps);
  const mode = modeOf(o);
  const seedsFlag = positiveInt(o.seeds, '--seeds');
  const seeds = seedsFlag ?? exp.plans[mode].seeds;
  const jobs = expandJobs(exp, mode, seeds);
  const p = labPaths(o.out, exp.name, mode, steps);
  const { results, missing } = loadResults(p, jobs);
  if (results.length === 0) throw new UserError(`no results for ${exp.name} (${mode}) in ${p.results}; run: ${commandOf(exp.name, mode, seedsFlag, steps)}`);
  const ctx = reportContext(exp, seeds, commandOf(exp.name, mode, seedsFlag, steps), missing, positiveInt(globals.threads, '--threads') ?? 1, 1, globals.backend ?? 'auto', readRunContext(p));
  const files = o.docs
    ? { md: join(o.docs, `${exp.name}.md`), html: join(o.docs, `${exp.name}.html`), figDir: join(o.docs, exp.name), prefix: `${exp.name}/` }
    : { md: join(p.root, 'report.md'), html: join(p.root, 'report.html'), figDir: p.root, prefix: '' };
  mkdirSync(o.docs ?? p.root, { recursive: true });
  const verdicts = writeReport(exp, mode, results, ctx, files);
  console.log(`${files.md} and ${files.html}: ${verdicts}${missing.length > 0 ? ` (partial: ${missing.length} job(s) missing)` : ''}`);
}

/** `lab summary`: the table of every experiment that has results, in Markdown, on stdout. */
function summaryCommand(o: { quick?: boolean; full?: boolean; out: string; links: string }): void {
  const mode = modeOf(o);
  const aggs = EXPERIMENTS.flatMap((exp) => {
    const jobs = expandJobs(exp, mode);
    const { results, missing } = loadResults(labPaths(o.out, exp.name, mode), jobs);
    return results.length > 0 ? [{ agg: aggregate(exp, mode, results), link: `${o.links}${exp.name}.md`, partial: missing.length > 0 }] : [];
  });
  if (aggs.length === 0) throw new UserError(`no experiment has ${mode} results in ${o.out}; run one with resnorm lab run NAME`);
  process.stdout.write(summaryTable(aggs));
}

function listCommand(): void {
  const rows = EXPERIMENTS.map((e) => {
    const blocked = planProblems(e, 'quick');
    const q = e.plans.quick;
    const status = blocked.length === 0 ? 'ready' : `needs: ${[...new Set(blocked.map((b) => /'(\w+)'/.exec(b.message.split('\n').find((l) => l.includes('field')) ?? '')?.[1] ?? b.arm))].join(', ')}`;
    return { name: e.name, finding: e.finding, size: `${q.arms.length} arms × ${q.seeds} seeds`, status };
  });
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.finding}\n${' '.repeat(w)}  quick: ${r.size}; ${r.status}`);
  const bad = EXPERIMENTS.flatMap((e) => definitionProblems(e).map((d) => `${e.name}: ${d}`));
  if (bad.length > 0) throw new UserError(`experiment definitions have problems:\n${bad.join('\n')}`);
  console.log(`\nrun one with: resnorm lab run NAME [--quick|--full] [--seeds K]`);
}

export function registerLabCommand(program: Command): void {
  // The lab's parent process only schedules; its workers start their own backends.
  const lab = withoutBackend(program.command('lab')).description('experiments that reproduce published findings on residuals and normalization, with computed verdicts');
  lab
    .command('list')
    .description('the experiments, and whether this build can run them')
    .action(listCommand);
  lab
    .command('run')
    .description('run one experiment (resumable) and write lab/NAME/report.md and report.html')
    .argument('<name>', 'the experiment (resnorm lab list), or a module file defining one (./my-experiment.ts)')
    .option('--quick', 'tiny models, minutes on 2 cores (the default)')
    .option('--full', 'the honest size: hours')
    .option('--seeds <k>', 'seeds per arm (default: the experiment\'s, at least 3)')
    .option('--jobs <n>', 'worker processes (default: one per core)')
    .option('--threads-per-job <t>', 'wasm threads per worker (default: cores / jobs)')
    .option('--out <dir>', 'where lab results and reports go', 'lab')
    .option('--steps <n>', 'train every arm for n steps only (a smoke test; results kept apart)')
    .option('--keep-checkpoints', "keep each finished run's last checkpoint (default: removed once its result is written)")
    .option('--fresh', 'forget the stored results of this mode and run everything again')
    .action((name: string, o: RunOptions, cmd: Command) => runCommand(name, o, cmd.optsWithGlobals()));
  lab
    .command('report')
    .description('render the report again from stored results (to lab/NAME, or to --docs DIR)')
    .argument('<name>', 'the experiment')
    .option('--quick', 'the quick results (default)')
    .option('--full', 'the full results')
    .option('--seeds <k>', 'as given to lab run')
    .option('--steps <n>', 'as given to lab run')
    .option('--out <dir>', 'where lab run wrote', 'lab')
    .option('--docs <dir>', 'write <dir>/NAME.md, NAME.html and NAME/fig-N.svg instead')
    .action((name: string, o: Parameters<typeof reportCommand>[1], cmd: Command) => reportCommand(name, o, cmd.optsWithGlobals()));
  lab
    .command('summary')
    .description('a Markdown table of every experiment with results: its finding and the verdict of each claim')
    .option('--quick', 'quick results (default)')
    .option('--full', 'full results')
    .option('--out <dir>', 'where lab run wrote', 'lab')
    .option('--links <prefix>', 'prefix of the links to the reports', 'lab/')
    .action(summaryCommand);
  lab
    .command('worker', { hidden: true })
    .description('(internal) a worker process of lab run')
    .action((_: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ backend?: string; threads?: string }>();
      return labWorker(g.backend, g.threads);
    });
}
