// Train a small character-level GPT through resnorm's API, watch it with callbacks, and save it as a
// run directory that `resnorm sample`, `eval`, the dashboard and sample.mjs open.
// Usage: node train.mjs [run-dir] [steps]
import { CharTokenizer, createRunDirectory, createWasmBackend, GPT, modelConfigOf, parseTrainConfig, saveCheckpoint, splitTrainVal, Trainer } from 'resnorm';

const [dir = 'runs/api-example', steps = '50'] = process.argv.slice(2);
const text = 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. '.repeat(40);

// The config: every field has the CLI's default; this one asks for a post-LN model with RMSNorm.
const config = parseTrainConfig({ nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32, batchSize: 8, maxIters: Number(steps), evalInterval: 25, evalIters: 2, diagInterval: 10, placement: 'post', norm: 'rmsnorm' });
const tokenizer = CharTokenizer.fromText(text);
const backend = await createWasmBackend({ threads: 1 }); // a fixed thread count gives bit-identical runs
const model = GPT.create(modelConfigOf(config, tokenizer.vocabSize), { backend, seed: config.seed });
const trainer = new Trainer(model, config, splitTrainVal(Int32Array.from(tokenizer.encode(text)), config.valFraction));

await trainer.run(config.maxIters, {
  onStep: (m) => { if (m.step % 10 === 0) console.log(`step ${m.step}: loss ${m.trainLoss.toFixed(3)}, grad norm ${m.gradNorm.toFixed(2)}`); },
  onEval: (e) => console.log(`step ${e.step}: validation loss ${e.valLoss.toFixed(3)}`),
  // The diagnostics of docs/run-directory.md: gradient norms by layer, each residual branch's update
  // against the stream it joins, attention entropy, loss spikes.
  onDiagnostics: (records) => {
    for (const r of records) {
      if (r.kind !== 'step') continue;
      console.log(`step ${r.step}: gradient norm by layer ${r.layers.map((l) => `${l.name} ${l.gradNorm.toFixed(3)}`).join(', ')}`);
      console.log(`  update/stream RMS by sub-layer ${r.sublayers.map((s) => `${s.name} ${s.ratio.toFixed(3)}`).join(', ')}`);
    }
  },
});

const store = await createRunDirectory(dir);
await saveCheckpoint(store, trainer, tokenizer, { valLoss: trainer.lastValLoss, keep: { last: 3, best: false } });
console.log(`saved ${dir}: try \`npx resnorm sample ${dir}\` or \`node sample.mjs ${dir}\``);
trainer.dispose();
await backend.dispose();
