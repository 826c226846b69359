import type { ExpertConfig } from '../config/index.js';
import { openaiBackend } from './openai.js';
import { createTritonBackend } from './triton.js';
import type { BackendProtocol } from './types.js';

export type { BackendProtocol, BackendProtocolName, BackendCall, RequestKind, StreamRelay, TokenUsage, UpstreamRequest, AdaptedResponse } from './types.js';
export { openaiBackend } from './openai.js';
export { createTritonBackend, type TritonOptions } from './triton.js';
export { KeyScanner, IntFieldScanner } from './byte-scan.js';
export { setTopLevelMembers } from './json-splice.js';
export { redactSecrets, upstreamDetail } from './upstream-error.js';

/** The backend protocol an expert speaks. */
export function backendFor(expert: ExpertConfig): BackendProtocol {
  return expert.protocol === 'openai'
    ? openaiBackend
    : createTritonBackend({ chatTemplate: expert.chat_template, defaultMaxTokens: expert.default_max_tokens });
}
