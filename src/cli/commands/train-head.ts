/**
 * `expert-router train-head`: trains the embedding tier's head from labelled prompts (default: the project
 * corpus) against a provider, in-process (Universal Sentence Encoder lite) or a remote /v1/embeddings, and
 * writes it. The shipped in-process head is data/models/embedding-use-lite.json, rebuilt with no options.
 */
import type { Command } from 'commander';
import { corpusDigest, readDefaultCorpus, readExamples, type LabelledText } from '../../classifier/index.js';
import {
  buildHead,
  createProvider,
  DEFAULT_MAX_CHARS,
  saveHead,
  USE_LITE_HEAD_PATH,
  USE_LITE_MODEL,
  type EmbeddingProvider,
} from '../../classifier/embedding/index.js';
import { CliError, parsePositiveInt } from '../run.js';

interface TrainHeadCliOptions {
  provider: string;
  data?: string;
  textField: string;
  labelField: string;
  endpoint?: string;
  model?: string;
  apiKey?: string;
  workers: number;
  batchSize: number;
  maxChars: number;
  epochs: number;
  out?: string;
}

export function registerTrainHead(program: Command): void {
  program
    .command('train-head')
    .description("train the embedding tier's head (a softmax layer on the embeddings) from labelled prompts against an embeddings provider")
    .option('--provider <kind>', "'in-process' (Universal Sentence Encoder lite, English) or 'remote' (an OpenAI-compatible /v1/embeddings)", 'in-process')
    .option('--data <file>', 'labelled prompts (JSONL or CSV); default: the project corpus, data/corpus/train')
    .option('--text-field <name>', 'field holding the prompt', 'prompt')
    .option('--label-field <name>', 'field holding the label', 'label')
    .option('--endpoint <url>', 'remote: the embeddings server, http(s)://host:port[/prefix]')
    .option('--model <name>', 'remote: the embedding model to ask for')
    .option('--api-key <key>', 'remote: sent as authorization: Bearer <key> (or set EXPERT_ROUTER_EMBEDDINGS_KEY)')
    .option('--workers <n>', 'in-process: worker threads; remote: requests in flight', parsePositiveInt('--workers'), 1)
    .option('--batch-size <n>', 'prompts per embeddings call', parsePositiveInt('--batch-size'), 32)
    .option('--max-chars <n>', 'prompts are cut to this many characters before embedding (in use too)', parsePositiveInt('--max-chars'), DEFAULT_MAX_CHARS)
    .option('--epochs <n>', 'full-batch gradient steps', parsePositiveInt('--epochs'), 100)
    .option('--out <file>', `where to write the head (default for in-process: ${USE_LITE_HEAD_PATH})`)
    .action(async (opts: TrainHeadCliOptions) => {
      if (opts.provider !== 'in-process' && opts.provider !== 'remote') throw new CliError(`--provider must be 'in-process' or 'remote', got '${opts.provider}'`, 2);
      if (opts.provider === 'remote' && (!opts.endpoint || !opts.model || !opts.out)) throw new CliError('--provider remote needs --endpoint, --model and --out', 2);
      const out = opts.out ?? USE_LITE_HEAD_PATH;
      const examples: LabelledText[] = opts.data
        ? readExamples(opts.data, { textField: opts.textField, labelField: opts.labelField, requireLabel: true })
        : readDefaultCorpus();
      const provider: EmbeddingProvider = createProvider({
        provider: opts.provider,
        endpoint: opts.endpoint,
        model: opts.model,
        api_key: opts.apiKey ?? process.env.EXPERT_ROUTER_EMBEDDINGS_KEY,
        workers: opts.workers,
        max_queue: opts.workers,
      });
      const t0 = performance.now();
      let shown = 0;
      try {
        const head = await buildHead(provider, examples, {
          model: opts.provider === 'remote' ? opts.model! : USE_LITE_MODEL,
          maxChars: opts.maxChars,
          // USE lite's vocabulary is English: it is trained on, and asked about, prompts mostly in Latin script.
          scripts: opts.provider === 'remote' ? 'any' : 'latin',
          batchSize: opts.batchSize,
          concurrency: opts.workers,
          epochs: opts.epochs,
          source: opts.data ?? 'data/corpus/train/**/*.jsonl',
          corpusDigest: opts.data ? null : corpusDigest(),
          onProgress(done, total) {
            if (done - shown >= 1000 || done === total) {
              shown = done;
              process.stderr.write(`embedded ${done}/${total} prompts (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
            }
          },
        });
        saveHead(head, out);
        const m = head.metadata;
        process.stdout.write(
          `head for ${head.provider} (${head.model}, ${head.dimension} dimensions): ${m.examples} prompts, labels ${head.labels.join(', ')}, ` +
            `training accuracy ${(m.trainAccuracy * 100).toFixed(1)}%, ${((performance.now() - t0) / 1000).toFixed(1)} s\nwrote ${out}\n`,
        );
      } finally {
        await provider.close();
      }
    });
}
