// The `resnorm` command line: train, sample, eval, info. The only layer that reads argv or prints.

import { Command } from 'commander';
import { BACKEND_CHOICES, selectBackend } from './backend-choice.ts';
import { needsBackend } from './backend-free.ts';
import { addConfigFlags } from './config-flags.ts';
import { registerDashboardCommand } from './dashboard-command.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerGpt2Commands } from './gpt2-commands.ts';
import { registerPytorchCommands } from './pytorch-commands.ts';
import { registerLabCommand } from './lab-command.ts';
import { reportAndExit } from './errors.ts';
import { registerReportCommand } from './report-command.ts';
import { evalCommand, infoCommand, predictCommand, sampleCommand, translateCommand } from './run-commands.ts';
import { registerTensorBoardCommand } from './tensorboard-command.ts';
import { trainCommand } from './train-command.ts';
import type { TrainOptions } from './train-options.ts';
import { TASKS } from '../train/tasks/kinds.ts';

const program = new Command('resnorm')
  .description('Build, train, inspect and run Transformer language models; residual connections and layer normalization are first-class.')
  .option('--backend <name>', `compute backend (${BACKEND_CHOICES.join('|')}); auto = wasm, or WebGPU where measured faster on the model train builds`, 'auto')
  .option('--threads <n>', 'threads for the wasm backend (default: all cores); a fixed count gives bit-identical runs')
  .showHelpAfterError()
  .hook('preAction', async (_, command) => {
    if (!needsBackend(command)) return; // marked where registered: see backend-free.ts
    const o = program.opts<{ backend: string; threads?: string }>();
    await selectBackend(o.backend, o.threads);
  });

addConfigFlags(
  program
    .command('train')
    .description(
      'train a model: --task lm (default) a GPT on a text (Moby-Dick), translate an encoder-decoder (CMUdict grapheme → phoneme, or --data pairs.tsv), classify a text classifier (SpamAssassin, or --data labelled.tsv), image a ResNet or --model mlp (Fashion-MNIST, or --data IDX-DIR); every config field can be set by a flag or --config file (settings marked [tasks] belong to those tasks)',
    )
    .option('--task <task>', `what to train (${TASKS.join('|')}); --resume takes the run's own`)
    .option('--config <file>', 'JSON file of config fields (flags override it)')
    .option('--out <dir>', 'run directory (default runs/<timestamp>)')
    .option('--resume <dir>', 'continue the run in <dir> exactly where its latest checkpoint left off')
    .option('--budget-minutes <m>', 'lm: fit the number of iterations to this time budget (unless --max-iters is given)')
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
  .description(
    "score a run on held-out data: lm: perplexity and bits per character over the whole validation text; translate: exact match, word and phoneme (or character) error rates and BLEU; classify, image: accuracy, per-class precision, recall and F1, macro and micro averages, the confusion matrix",
  )
  .argument('<run-dir>', 'a run directory written by resnorm train')
  .option('--data <path>', 'evaluate on this data instead of the run’s (a text, a TSV, an IDX directory)')
  .option('--split <split>', "the held-out split of the other tasks: 'val' or 'test' (lm has a validation split only)", 'val')
  .option('--beam <k>', 'translate: beam width (default: the run’s, 1 = greedy)')
  .option('--limit <n>', 'score only the first n held-out examples')
  .option('--step <n>', "the checkpoint to evaluate: a step number, 'latest' or 'best'", 'latest')
  .action(evalCommand);

program
  .command('info')
  .description('task, config, parameter count, steps, vocabulary, validation losses and metrics, and the checkpoints of a run')
  .argument('<run-dir>', 'a run directory written by resnorm train')
  .action(infoCommand);

program
  .command('translate')
  .description('translate with a run of --task translate: words to phonemes (CMUdict), or sentences of its TSV pairs')
  .argument('<run-dir>', 'a run directory written by resnorm train --task translate')
  .argument('[source...]', 'what to translate; without it, one source per line on stdin')
  .option('--beam <k>', 'beam width (1 = greedy)', '1')
  .option('--step <n>', "the checkpoint to use: a step number, 'latest' or 'best'", 'latest')
  .action(translateCommand);

program
  .command('predict')
  .description('classify with a run of --task classify (texts) or --task image (the images of an IDX file): each one’s class and its probability')
  .argument('<run-dir>', 'a run directory written by resnorm train --task classify or image')
  .argument('[text...]', 'classify: the texts; without them, one text per line on stdin')
  .option('--images <file>', 'image: an IDX images file (…-images-idx3-ubyte, plain or .gz)')
  .option('--limit <n>', 'image: predict only the first n images')
  .option('--step <n>', "the checkpoint to use: a step number, 'latest' or 'best'", 'latest')
  .action(predictCommand);

registerDashboardCommand(program);
registerDemoCommand(program);
registerTensorBoardCommand(program);
registerGpt2Commands(program);
registerPytorchCommands(program);
registerReportCommand(program);
registerLabCommand(program);

/** The command tree, for tests that inspect what is registered. */
export const cliProgram: Command = program;

/**
 * Runs one command line (process.argv's shape: the node binary, the script, then the arguments), as
 * the `resnorm` command does (bin/resnorm.js): a user error is printed and exits 1, with no stack trace.
 */
export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  // `resnorm info RUN | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  await program.parseAsync([...argv]).catch(reportAndExit);
}
