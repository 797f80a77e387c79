// The `resnorm` command line: train, sample, eval, info. The only layer that reads argv or prints.

import { Command } from 'commander';
import { BACKEND_CHOICES, selectBackend } from './backend-choice.ts';
import { addConfigFlags } from './config-flags.ts';
import { registerDashboardCommand } from './dashboard-command.ts';
import { registerLabCommand } from './lab-command.ts';
import { reportAndExit } from './errors.ts';
import { registerReportCommand } from './report-command.ts';
import { evalCommand, infoCommand, sampleCommand } from './run-commands.ts';
import { registerTensorBoardCommand } from './tensorboard-command.ts';
import { trainCommand, type TrainOptions } from './train-command.ts';

const program = new Command('resnorm')
  .description('Build, train, inspect and run Transformer language models; residual connections and layer normalization are first-class.')
  .option('--backend <name>', `compute backend (${BACKEND_CHOICES.join('|')}); auto = wasm when available`, 'auto')
  .option('--threads <n>', 'threads for the wasm backend (default: all cores); a fixed count gives bit-identical runs')
  .showHelpAfterError()
  .hook('preAction', async (_, command) => {
    // Commands that only read and serve files need no compute backend (and its threads).
    if (['dashboard', 'report', 'export-tensorboard'].includes(command.name())) return;
    // The lab's parent process only schedules; its workers start their own backends.
    if (command.parent?.name() === 'lab') return;
    const o = program.opts<{ backend: string; threads?: string }>();
    await selectBackend(o.backend, o.threads);
  });

addConfigFlags(
  program
    .command('train')
    .description('train a GPT on a text (default: Moby-Dick); every config field can be set by a flag or --config file')
    .option('--config <file>', 'JSON file of config fields (flags override it)')
    .option('--out <dir>', 'run directory (default runs/<timestamp>)')
    .option('--resume <dir>', 'continue the run in <dir> exactly where its latest checkpoint left off')
    .option('--budget-minutes <m>', 'fit the number of iterations to this time budget (unless --max-iters is given)')
    .option('--dashboard', 'serve the live dashboard of this run on 127.0.0.1 while it trains (see resnorm dashboard)')
    .option('--dashboard-port <n>', 'port of --dashboard (0 = any free port)', '6007')
    .option('--tensorboard <dir>', 'also write TensorBoard event files into <dir> as training goes'),
).action((opts: TrainOptions) => trainCommand(opts));

program
  .command('sample')
  .description('generate text from a trained run, streaming it as it comes')
  .argument('<run-dir>', 'a run directory written by resnorm train')
  .option('--prompt <text>', 'text to continue (default: a newline, or a space, when the vocabulary has one)')
  .option('--tokens <n>', 'number of tokens to generate', '500')
  .option('--temperature <t>', 'sampling temperature (0 = greedy)', '0.8')
  .option('--top-k <k>', 'keep only the k most likely tokens (0 = all)', '0')
  .option('--top-p <p>', 'nucleus sampling: keep tokens up to this total probability', '1')
  .option('--seed <s>', 'random seed', '1337')
  .option('--step <n>', "the checkpoint to sample from: a step number, 'latest' or 'best' (resnorm info lists them)", 'latest')
  .action(sampleCommand);

program
  .command('eval')
  .description('perplexity and bits per character over the whole validation text (every position)')
  .argument('<run-dir>', 'a run directory written by resnorm train')
  .option('--data <path>', 'evaluate on this text instead of the run’s validation split')
  .option('--step <n>', "the checkpoint to evaluate: a step number, 'latest' or 'best'", 'latest')
  .action(evalCommand);

program
  .command('info')
  .description('config, parameter count, steps, tokenizer, validation losses and the checkpoints of a run')
  .argument('<run-dir>', 'a run directory written by resnorm train')
  .action(infoCommand);

registerDashboardCommand(program);
registerTensorBoardCommand(program);
registerReportCommand(program);
registerLabCommand(program);

// `resnorm info RUN | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

program.parseAsync(process.argv).catch(reportAndExit);
