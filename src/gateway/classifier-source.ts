/**
 * The classifier of a gateway: the configured model file, or the built-in default model. Loaded
 * lazily, so a gateway given its classifier never loads the classifier module.
 */
import type { PromptClassifier } from '../classifier/types.js';

export async function resolveClassifier(modelPath: string | undefined): Promise<PromptClassifier> {
  const { defaultModel, loadModel } = await import('../classifier/index.js');
  return modelPath === undefined ? await defaultModel() : await loadModel(modelPath);
}
