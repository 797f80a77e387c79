/* global window, location */
// The pack test's browser page: imports the installed package by name, as a user's page would (bundled
// by esbuild with the package's browser condition), trains a tiny GPT for a few steps on the page's main
// thread and samples from it. The test reads window.result.
import { CharTokenizer, createWasmBackend, generate, GPT, modelConfigOf, parseTrainConfig, splitTrainVal, Trainer } from 'resnorm';

async function run() {
  const text = 'the quick brown fox jumps over the lazy dog. '.repeat(50);
  const config = parseTrainConfig({ nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 16, batchSize: 4, maxIters: 5, evalInterval: 5, evalIters: 1, diagInterval: 0 });
  const tokenizer = CharTokenizer.fromText(text);
  // esbuild does not copy `new URL('./x.wasm', import.meta.url)` assets: the page serves the kernels itself.
  const backend = await createWasmBackend({ threads: 1, kernelsUrl: new URL('./', location.href) });
  const model = GPT.create(modelConfigOf(config, tokenizer.vocabSize), { backend, seed: config.seed });
  const trainer = new Trainer(model, config, splitTrainVal(Int32Array.from(tokenizer.encode(text)), config.valFraction));
  const losses = [];
  await trainer.run(config.maxIters, { onStep: (m) => losses.push(m.trainLoss) });
  const sample = tokenizer.decode(await generate(model, tokenizer.encode('the'), { maxNewTokens: 10, seed: 1 }));
  return { flavour: backend.flavour, losses, sample };
}

window.result = run().catch((e) => ({ error: String(e) }));
