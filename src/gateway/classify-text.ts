/**
 * The text of a request that the classifier sees, chosen by the config's classify.fields, and
 * whether the request holds any text worth classifying (a letter or a digit in what the user
 * wrote; an image-only message or a lone "?" does not).
 */
import type { ClassifyField } from '../config/index.js';
import { messageText, type ChatMessage } from '../protocol/index.js';
import type { RequestKind } from '../backends/index.js';

export interface ClassifyText {
  text: string;
  /** The user's part of `text` (the system prompt aside) holds a letter or a digit. */
  usable: boolean;
}

const USABLE = /[\p{L}\p{N}]/u;
const SYSTEM_ROLES = ['system', 'developer'];

function userTurn(messages: readonly ChatMessage[], last: boolean): string | undefined {
  const n = messages.length;
  for (let i = 0; i < n; i++) {
    const m = messages[last ? n - 1 - i : i];
    if (m.role === 'user') return messageText(m);
  }
  return undefined;
}

function chatText(messages: readonly ChatMessage[], fields: readonly ClassifyField[]): ClassifyText {
  const parts: string[] = [];
  let usable = false;
  let system = '';
  for (const field of fields) {
    if (field === 'first_user' || field === 'last_user') {
      const text = userTurn(messages, field === 'last_user');
      if (text !== undefined) {
        parts.push(text);
        usable ||= USABLE.test(text);
      }
      continue;
    }
    const roles = field === 'system' ? SYSTEM_ROLES : field === 'all_user' ? ['user'] : ['assistant'];
    for (const m of messages) {
      if (!roles.includes(m.role)) continue;
      const text = messageText(m);
      parts.push(text);
      if (field === 'system') system += text;
      else usable ||= USABLE.test(text);
    }
  }
  // Only the system prompt is classified: it is then the text that decides.
  if (fields.every((f) => f === 'system')) usable = USABLE.test(system);
  return { text: parts.join('\n'), usable };
}

export function textToClassify(kind: RequestKind, body: Record<string, unknown>, fields: readonly ClassifyField[]): ClassifyText {
  if (kind === 'completion') {
    const prompt = body.prompt as string | string[];
    const text = typeof prompt === 'string' ? prompt : prompt.join('\n');
    return { text, usable: USABLE.test(text) };
  }
  return chatText(body.messages as ChatMessage[], fields);
}
