/** The text of a request that the classifier sees, chosen by the config's classify.fields. */
import type { ClassifyField } from '../config/index.js';
import { messageText, type ChatMessage } from '../protocol/index.js';
import type { RequestKind } from '../backends/index.js';

function chatText(messages: readonly ChatMessage[], fields: readonly ClassifyField[]): string {
  const parts: string[] = [];
  for (const field of fields) {
    if (field === 'last_user') {
      for (let i = messages.length - 1; i >= 0; i--) {
        if (messages[i].role === 'user') {
          parts.push(messageText(messages[i]));
          break;
        }
      }
      continue;
    }
    const roles = field === 'system' ? ['system', 'developer'] : field === 'all_user' ? ['user'] : ['assistant'];
    for (const m of messages) if (roles.includes(m.role)) parts.push(messageText(m));
  }
  return parts.join('\n');
}

export function textToClassify(kind: RequestKind, body: Record<string, unknown>, fields: readonly ClassifyField[]): string {
  if (kind === 'completion') {
    const prompt = body.prompt as string | string[];
    return typeof prompt === 'string' ? prompt : prompt.join('\n');
  }
  return chatText(body.messages as ChatMessage[], fields);
}
