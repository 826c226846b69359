/** Classifier failures, each with a stable code; the message names the file (and line) at fault. */
import { ExpertRouterError } from '../common/errors.js';

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

export class ClassifierError extends ExpertRouterError<ClassifierErrorCode> {}
