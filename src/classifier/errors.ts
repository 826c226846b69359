/** Classifier failures, each with a stable code; the message names the file (and line) at fault. */

export type ClassifierErrorCode =
  | 'file_unreadable'
  | 'data_malformed'
  | 'data_missing_field'
  | 'data_empty_text'
  | 'data_empty'
  | 'invalid_option'
  | 'model_truncated'
  | 'model_corrupt'
  | 'model_foreign'
  | 'model_version';

export class ClassifierError extends Error {
  constructor(readonly code: ClassifierErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'ClassifierError';
  }
}
