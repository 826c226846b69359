/** Renders chat messages to a single prompt, for backends that take plain text (Triton, the simulator). */
import { messageText, type ChatMessage } from './openai.js';

export type ChatTemplateName = 'llama3' | 'plain';

/** Llama 3 instruct template (Meta's published format), ending with the assistant header. */
export function renderLlama3(messages: readonly ChatMessage[]): string {
  let out = '<|begin_of_text|>';
  for (const message of messages) {
    out += `<|start_header_id|>${message.role}<|end_header_id|>\n\n${messageText(message).trim()}<|eot_id|>`;
  }
  return out + '<|start_header_id|>assistant<|end_header_id|>\n\n';
}

/** "role: text" lines, for models without a chat template. */
export function renderPlain(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${messageText(m)}`).join('\n') + '\nassistant:';
}

export function renderChat(messages: readonly ChatMessage[], template: ChatTemplateName = 'llama3'): string {
  return template === 'llama3' ? renderLlama3(messages) : renderPlain(messages);
}
