// The demo page: train a small character model on a text in an engine Web Worker (so the page stays
// responsive, and the kernels can use threads), watch its loss and samples live, stop it, generate from
// it, save it as a run directory (.tar) the CLI opens, or load a run directory made by the CLI.
// Every state the tests and the user need is on the DOM: text, and data-* attributes beside it.

import { el, setChildren } from '../../dashboard/page/dom.ts';
import { fmtNum } from '../../dashboard/page/format.ts';
import { Scheduler } from '../../dashboard/page/scheduler.ts';
import { treeEntries, writeTar } from '../../io/tar.ts';
import { EngineClient, type EngineInfo, type RunInfo } from '../../worker/client.ts';
import { LossChart } from './loss-chart.ts';
import { filesForLoad, loggedLosses, pickedFromDrop, pickedFromInput, type PickedFile } from './run-files.ts';
import { SettingsForm } from './settings.ts';
import { chooseBackend, threadsNote } from './threads.ts';

type Busy = 'starting' | 'idle' | 'training' | 'stopping' | 'generating' | 'loading' | 'saving' | 'failed';

/** The median of the last `n` values: the step times shown, steady against one slow step. */
function recentMedian(xs: readonly number[], n = 20): number {
  const tail = xs.slice(-n).sort((a, b) => a - b);
  return tail.length === 0 ? NaN : tail[tail.length >> 1];
}

function button(action: string, text: string, title: string): HTMLButtonElement {
  return el('button', { text, title, attrs: { type: 'button', 'data-action': action } });
}

function numberInput(field: string, value: string, step = '1'): HTMLInputElement {
  return el('input', { attrs: { type: 'number', value, step, min: '0', 'data-field': field } });
}

export class DemoApp {
  private readonly scheduler = new Scheduler();
  private readonly chart = new LossChart(this.scheduler);
  private readonly settings = new SettingsForm();
  private readonly engine: EngineClient;
  private busy: Busy = 'starting';
  /** What the Generate section continues: set by a finished training or a load. */
  private model: { kind: 'trained' | 'loaded'; label: string } | null = null;
  private trainedHere = false;
  private sampleText = '';

  private readonly threads = el('span', { class: 'threads', attrs: { 'data-threads': '' } });
  private readonly isolation = el('p', { class: 'isolation', attrs: { 'data-isolation': '' } });
  private readonly error = el('p', { class: 'error', attrs: { 'data-error': '' } });
  private readonly text = el('textarea', { attrs: { 'data-field': 'text', rows: '10', spellcheck: 'false', 'aria-label': 'training text' } });
  private readonly textInfo = el('p', { class: 'note' });
  /** data-state: ready, training, done, stopped or error (of the last training); data-busy: what the page is doing. */
  private readonly progress = el('p', { class: 'progress', attrs: { 'data-status': '', 'data-state': 'starting' } });
  private readonly samples = el('div', { class: 'panel-body', attrs: { 'data-panel': 'samples' } });
  private readonly trainBtn = button('train', 'Train', 'train a new model on the text with these settings');
  private readonly stopBtn = button('stop', 'Stop', 'end the training after its current step (the model so far is kept)');
  private readonly saveBtn = button('save', 'Save run (.tar)', 'download the trained model as a run directory: tar xf it, then resnorm sample / eval / info / dashboard');
  private readonly sampleBtn = button('use-sample', 'Use the sample text', 'the first two chapters of Moby-Dick');
  private readonly prompt = el('input', { attrs: { type: 'text', value: 'Call me ', 'data-field': 'prompt', 'aria-label': 'prompt' } });
  private readonly tokens = numberInput('tokens', '300');
  private readonly temperature = numberInput('temperature', '0.8', 'any');
  private readonly seed = numberInput('seed', '1337');
  private readonly generateBtn = button('generate', 'Generate', 'continue the prompt with the model trained or loaded last (KV-cached)');
  private readonly modelInfo = el('p', { class: 'note', attrs: { 'data-model': '' } });
  private readonly output = el('pre', { class: 'output', attrs: { 'data-output': 'generated', 'data-state': 'empty' } });
  private readonly dirInput = el('input', { attrs: { type: 'file', 'data-field': 'run-dir', 'aria-label': 'a run directory' } });
  private readonly drop = el('div', { class: 'drop', attrs: { 'data-drop': '' } });
  private readonly runInfo = el('p', { class: 'note', attrs: { 'data-run-info': '' } });

  constructor(root: HTMLElement) {
    const params = new URLSearchParams(location.search);
    const choice = chooseBackend(params, globalThis.crossOriginIsolated === true, navigator.hardwareConcurrency || 1);
    this.threads.textContent = `starting ${choice.backend.threads} thread${choice.backend.threads === 1 ? '' : 's'}…`;
    this.threads.setAttribute('data-isolated', String(choice.isolated));
    const note = threadsNote(choice);
    this.isolation.textContent = note ?? '';
    this.isolation.hidden = note === null;
    this.engine = EngineClient.create(new URL('./engine-worker.js', document.baseURI), choice.backend);
    this.dirInput.webkitdirectory = true;
    this.dirInput.multiple = true;
    this.build(root);
    this.wire();
    this.engine.ready.then(
      (info) => this.ready(info),
      (e: unknown) => this.fail(`The engine could not start: ${String((e as Error).message ?? e)}`),
    );
    void this.loadSample();
  }

  private build(root: HTMLElement): void {
    const section = (title: string, ...children: (Node | string | null)[]) => el('section', { class: 'group' }, el('h2', { text: title }), ...children);
    const smooth = el('input', { attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(this.chart.view.smoothing), 'data-control': 'smoothing', 'aria-label': 'smoothing' } });
    smooth.addEventListener('input', () => {
      this.chart.view.smoothing = Number(smooth.value);
      this.chart.chart.invalidate();
    });
    const field = (label: string, input: HTMLElement) => el('label', { class: 'field' }, el('span', { text: label }), input);
    this.drop.append(el('span', { text: 'Pick a run directory made by resnorm train (or saved here), or drop its folder here: ' }), this.dirInput);
    setChildren(
      root,
      el('header', { class: 'top' }, el('h1', {}, 'resnorm ', el('small', { text: 'in your browser' })), this.threads, el('div', { class: 'controls' }, el('label', { title: 'EMA smoothing of the loss curve' }, 'smoothing ', smooth))),
      el(
        'main',
        {},
        this.isolation,
        this.error,
        section(
          'Train',
          el(
            'div',
            { class: 'grid train' },
            el(
              'section',
              { class: 'card' },
              el('header', {}, el('h3', { text: 'Text' }), el('div', { class: 'tools' }, this.sampleBtn)),
              el('p', { class: 'note', text: 'Paste any text; the model learns its characters (90% to train on, the last 10% to validate).' }),
              this.text,
              this.textInfo,
            ),
            el(
              'section',
              { class: 'card' },
              el('header', {}, el('h3', { text: 'Model and training' }), el('div', { class: 'tools' }, this.trainBtn, this.stopBtn, this.saveBtn)),
              this.settings.root,
              this.progress,
            ),
          ),
          el('div', { class: 'grid' }, this.chart.root, el('section', { class: 'card panel samples' }, el('header', {}, el('h3', { text: 'Samples' })), el('p', { class: 'note', text: 'Generated after each evaluation as it trains, newest first; the prompt in grey.' }), this.samples)),
        ),
        section(
          'Generate',
          el(
            'section',
            { class: 'card' },
            this.modelInfo,
            el('div', { class: 'settings' }, field('prompt', this.prompt), field('characters', this.tokens), field('temperature', this.temperature), field('seed', this.seed), this.generateBtn),
            this.output,
          ),
        ),
        section('Load a run', el('section', { class: 'card' }, this.drop, this.runInfo)),
      ),
      el('p', { class: 'footer', text: 'Everything runs in this tab: the text, the model and the runs you load never leave it. resnorm — residuals and normalization, first-class.' }),
    );
    this.setBusy('starting');
  }

  private wire(): void {
    this.text.addEventListener('input', () => this.describeText());
    this.sampleBtn.addEventListener('click', () => {
      this.text.value = this.sampleText;
      this.describeText();
    });
    this.trainBtn.addEventListener('click', () => void this.train());
    this.stopBtn.addEventListener('click', () => {
      if (this.busy !== 'training') return;
      this.engine.stop();
      this.setBusy('stopping');
    });
    this.saveBtn.addEventListener('click', () => void this.save());
    this.generateBtn.addEventListener('click', () => void this.generate());
    this.dirInput.addEventListener('change', () => {
      if (this.dirInput.files && this.dirInput.files.length > 0) void this.load(pickedFromInput(this.dirInput.files));
    });
    this.drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.drop.classList.add('over');
    });
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this.drop.classList.remove('over');
      if (!e.dataTransfer || this.busy !== 'idle') return;
      void pickedFromDrop(e.dataTransfer.items).then(
        (files) => this.load(files),
        (err: unknown) => this.showError(`Could not read the dropped files: ${String(err)}`),
      );
    });
  }

  private async loadSample(): Promise<void> {
    try {
      const res = await fetch('sample.txt');
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.sampleText = await res.text();
    } catch (e) {
      this.showError(`The sample text could not be fetched (${String(e)}); paste a text instead.`);
    }
    if (this.text.value === '') this.text.value = this.sampleText;
    this.describeText();
  }

  private describeText(): void {
    const t = this.text.value;
    const chars = [...t];
    const sample = t === this.sampleText && t !== '' ? ' — the sample: Moby-Dick, chapters 1–2 (Herman Melville, 1851)' : '';
    this.textInfo.textContent = `${chars.length.toLocaleString('en-US')} characters, ${new Set(chars).size} distinct${sample}`;
  }

  private ready(info: EngineInfo): void {
    const n = info.threads;
    this.threads.textContent = info.backend === 'webgpu' ? `WebGPU · ${info.adapter ?? 'GPU'}` : `${n} thread${n === 1 ? '' : 's'} · ${info.flavour === 'relaxed' ? 'relaxed SIMD' : 'SIMD'}`;
    this.threads.setAttribute('data-threads', String(n));
    this.threads.setAttribute('data-backend', info.backend);
    this.threads.setAttribute('data-flavour', info.flavour ?? 'webgpu');
    if (info.fallback) {
      this.isolation.textContent = [this.isolation.textContent, info.fallback].filter(Boolean).join(' ');
      this.isolation.hidden = false;
    }
    this.setBusy('idle');
    this.showProgress('ready: press Train', { state: 'ready' });
  }

  private fail(message: string): void {
    this.showError(message);
    this.threads.textContent = 'no engine';
    this.setBusy('failed');
  }

  private showError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = message === '';
  }

  private setBusy(b: Busy): void {
    this.busy = b;
    const idle = b === 'idle';
    this.trainBtn.disabled = !idle;
    this.stopBtn.disabled = b !== 'training';
    this.saveBtn.disabled = !(idle && this.trainedHere);
    this.generateBtn.disabled = !(idle && this.model !== null);
    this.dirInput.disabled = !idle;
    this.settings.disabled = !idle;
    this.text.readOnly = !idle;
    this.progress.setAttribute('data-busy', b);
    this.modelInfo.textContent = this.model ? `Generating from ${this.model.label}.` : 'Train a model or load a run first.';
  }

  private showProgress(text: string, attrs: Record<string, string | number | null>): void {
    this.progress.textContent = text;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null) this.progress.removeAttribute(`data-${k}`);
      else this.progress.setAttribute(`data-${k}`, String(v));
    }
  }

  private async train(): Promise<void> {
    if (this.busy !== 'idle') return;
    this.showError('');
    const { config, sample } = this.settings.read();
    const maxIters = config.maxIters ?? 2000;
    this.trainedHere = false;
    this.model = null;
    this.chart.reset('this tab');
    setChildren(this.samples);
    this.showProgress('starting…', { state: 'training', step: 0, max: maxIters, loss: null, 'first-loss': null, 'val-loss': null });
    this.setBusy('training');
    const t0 = performance.now();
    const ms: number[] = [];
    const gaps: number[] = [];
    let last = NaN;
    let shownAt = -Infinity;
    let first: number | null = null;
    let val: { step: number; loss: number } | null = null;
    let card: HTMLElement | null = null;
    let streamed: Text | null = null;
    const wall = () => (performance.now() - t0) / 1000;
    const tokensPerStep = (config.batchSize ?? 12) * (config.blockSize ?? 64);
    const shown = (step: number, loss: number) => {
      const t = recentMedian(ms);
      const gap = recentMedian(gaps);
      const speed = Number.isFinite(t) ? ` · ${t.toFixed(1)} ms a step${Number.isFinite(gap) ? ` (${gap.toFixed(1)} ms step to step)` : ''} · ${Math.round((tokensPerStep * 1000) / (Number.isFinite(gap) ? gap : t)).toLocaleString('en-US')} characters/s` : '';
      const v = val ? ` · validation ${fmtNum(val.loss)} (step ${val.step})` : '';
      this.showProgress(`step ${step} / ${maxIters} · train loss ${fmtNum(loss)}${v}${speed}`, { state: 'training', step, max: maxIters, loss, 'first-loss': first, 'val-loss': val?.loss ?? null });
    };
    try {
      const result = await this.engine.train(
        this.text.value,
        config,
        {
          onStep: (m) => {
            const now = performance.now();
            if (Number.isFinite(last)) gaps.push(now - last);
            last = now;
            ms.push(m.ms);
            first ??= m.loss;
            this.chart.step(m.step, wall(), m.loss);
            // The progress line a few times a second, like the chart: its layout and paint cost the engine's threads.
            if (now - shownAt >= 500 || m.step === maxIters) {
              shownAt = now;
              shown(m.step, m.loss);
            }
          },
          onEval: (e) => {
            val = { step: e.step, loss: e.valLoss };
            this.chart.evaluation(e.step, wall(), e.valLoss);
            if (sample) {
              streamed = document.createTextNode('');
              card = el('article', { class: 'sample', attrs: { 'data-step': String(e.step), 'data-state': 'streaming' } }, el('header', {}, el('span', { text: `step ${e.step} · validation loss ${fmtNum(e.valLoss)}` })), el('pre', {}, el('span', { class: 'prompt' }), streamed));
              this.samples.prepend(card);
            }
          },
          onToken: (t) => streamed?.appendData(t),
          onSample: (s) => {
            if (!card || !streamed) return;
            card.querySelector('.prompt')!.textContent = s.prompt;
            streamed.data = s.text;
            card.setAttribute('data-state', 'done');
          },
        },
        sample ? { options: sample } : undefined,
      );
      const stopped = result.steps < maxIters;
      this.trainedHere = result.steps > 0;
      this.model = this.trainedHere ? { kind: 'trained', label: `the model trained here (step ${result.steps})` } : null;
      const final = result.losses.at(-1);
      this.showProgress(
        `${stopped ? 'stopped' : 'done'} at step ${result.steps} / ${maxIters} in ${(result.ms / 1000).toFixed(1)} s · train loss ${final === undefined ? '—' : fmtNum(final)}${result.valLoss === null ? '' : ` · validation ${fmtNum(result.valLoss)}`}`,
        { state: stopped ? 'stopped' : 'done', step: result.steps, loss: final ?? null, 'val-loss': result.valLoss },
      );
    } catch (e) {
      this.showError(`Training failed: ${(e as Error).message}`);
      this.showProgress('training failed', { state: 'error' });
    }
    this.setBusy('idle');
  }

  private async generate(): Promise<void> {
    if (this.busy !== 'idle' || !this.model) return;
    this.showError('');
    this.setBusy('generating');
    const prompt = this.prompt.value;
    const body = document.createTextNode('');
    const generated = el('span', { attrs: { 'data-generated': '' } }, body);
    setChildren(this.output, el('span', { class: 'prompt', text: prompt }), generated);
    this.output.setAttribute('data-state', 'running');
    try {
      const text = await this.engine.sample(prompt, { maxNewTokens: Number(this.tokens.value), temperature: Number(this.temperature.value), seed: Number(this.seed.value) }, (t) => body.appendData(t));
      body.data = text;
      this.output.setAttribute('data-state', 'done');
    } catch (e) {
      this.showError(`Generation failed: ${(e as Error).message}`);
      this.output.setAttribute('data-state', 'error');
    }
    this.setBusy('idle');
  }

  private async save(): Promise<void> {
    if (this.busy !== 'idle' || !this.trainedHere) return;
    this.showError('');
    this.setBusy('saving');
    try {
      const { run, files } = await this.engine.save();
      const tar = writeTar(treeEntries(files));
      const url = URL.createObjectURL(new Blob([tar as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
      const a = el('a', { attrs: { href: url, download: `${run.dir}.tar` } });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.runInfo.textContent = `Saved ${run.dir}.tar (${(tar.length / 1024 / 1024).toFixed(1)} MiB, step ${run.step}). Unpack it and use it: tar xf ${run.dir}.tar && resnorm sample ${run.dir}`;
    } catch (e) {
      this.showError(`Saving failed: ${(e as Error).message}`);
    }
    this.setBusy('idle');
  }

  private async load(picked: PickedFile[]): Promise<void> {
    if (this.busy !== 'idle') return;
    this.showError('');
    this.setBusy('loading');
    this.runInfo.setAttribute('data-state', 'loading');
    this.runInfo.textContent = `reading ${picked.length} files…`;
    try {
      const run: RunInfo = await this.engine.load(await filesForLoad(picked));
      const name = run.dir === '.' ? 'the run' : run.dir;
      this.model = { kind: 'loaded', label: `${name} (loaded, step ${run.step})` };
      this.trainedHere = false;
      const m = run.model;
      this.runInfo.textContent = `Loaded ${name}: step ${run.step}, ${m.nLayer} layers, ${m.nHead} heads, width ${m.nEmbd}, context ${m.blockSize}, ${run.design}; ${run.parameters.toLocaleString('en-US')} parameters; ${run.tokenizer} tokenizer, ${run.vocabSize} tokens${run.valLoss === null ? '' : `; validation loss ${fmtNum(run.valLoss)}`}.`;
      this.runInfo.setAttribute('data-state', 'loaded');
      this.runInfo.setAttribute('data-step', String(run.step));
      const logged = await loggedLosses(picked, run.dir);
      this.chart.reset(name);
      setChildren(this.samples);
      for (const [step, wall, loss] of logged?.train ?? []) this.chart.step(step, wall, loss);
      for (const [step, wall, loss] of logged?.evals ?? []) this.chart.evaluation(step, wall, loss);
    } catch (e) {
      this.showError(`Loading failed: ${(e as Error).message}`);
      this.runInfo.textContent = '';
      this.runInfo.setAttribute('data-state', 'error');
    }
    this.dirInput.value = '';
    this.setBusy('idle');
  }
}
