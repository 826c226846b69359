/**
 * The access log: one JSON line per request on the gateway's logger ("msg":"request"), written
 * when the response has ended. It names the caller by its key's name, never the key, and holds the
 * classified text only when log.prompts is true.
 */
import type { TokenUsage } from '../backends/index.js';
import type { RouteDecision } from './expert-router.js';

/** How a request ended. */
export interface RequestOutcome {
  status: number;
  replica?: string;
  ttftMs?: number;
  errorCode?: string;
  usage?: TokenUsage;
}

export interface AccessLogInput {
  requestId: string;
  method: string | undefined;
  path: string;
  caller: string | undefined;
  decision: RouteDecision | undefined;
  stream: boolean | undefined;
  durationMs: number;
  outcome: RequestOutcome;
  logPrompts: boolean;
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export function accessRecord(x: AccessLogInput): Record<string, unknown> {
  const d = x.decision;
  const p = d?.prediction;
  const o = x.outcome;
  const record: Record<string, unknown> = {
    request_id: x.requestId,
    method: x.method,
    path: x.path,
    status: o.status,
    caller: x.caller,
    expert: d?.expert.config.name,
    reason: d?.reason,
    label: p?.label,
    confidence: p ? round3(p.confidence) : undefined,
    replica: o.replica,
    stream: x.stream,
    ttft_ms: o.ttftMs === undefined ? undefined : round3(o.ttftMs),
    duration_ms: round3(x.durationMs),
    prompt_tokens: o.usage?.prompt,
    completion_tokens: o.usage?.completion,
    error: o.errorCode,
  };
  if (x.logPrompts && d) record.prompt = d.text;
  return record;
}
