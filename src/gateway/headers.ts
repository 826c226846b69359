/** The headers the gateway adds to every response, and the request headers it reads. */
export const EXPERT_HEADER = 'x-expert-router-expert';
export const CLUSTER_HEADER = 'x-expert-router-cluster';
export const REPLICA_HEADER = 'x-expert-router-replica';
/** Why the expert was chosen: pinned, session, classified, low_confidence or no_text. */
export const REASON_HEADER = 'x-expert-router-reason';
/** The classifier's confidence in its label (absent when nothing was classified). */
export const CONFIDENCE_HEADER = 'x-expert-router-confidence';
/** With the embedding tier on: which tier decided and why, e.g. `embedding; reason=embedded`, `lexical; reason=timeout`. */
export const TIER_HEADER = 'x-expert-router-tier';
/** The request's id: the client's own when it sent a valid one, else generated; echoed and sent upstream. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** A client's conversation id: its requests stay with the expert its first one went to. */
export const SESSION_HEADER = 'x-session-id';
/** Value of the expert and cluster headers when there is none (errors before routing, a pinned expert). */
export const NONE = 'none';

/** server-timing: the gateway's own time before forwarding, and the part spent classifying. */
export function serverTiming(gatewayMs: number, classifyMs: number): string {
  return `gateway;dur=${gatewayMs.toFixed(3)}, classify;dur=${classifyMs.toFixed(3)}`;
}

export function gatewayHeaders(expert: string, cluster: string, gatewayMs: number, classifyMs: number): Record<string, string> {
  return { [EXPERT_HEADER]: expert, [CLUSTER_HEADER]: cluster, 'server-timing': serverTiming(gatewayMs, classifyMs) };
}
