/** The headers the gateway adds to every response. */
export const EXPERT_HEADER = 'x-expert-router-expert';
export const CLUSTER_HEADER = 'x-expert-router-cluster';
export const REPLICA_HEADER = 'x-expert-router-replica';
/** Value of the expert and cluster headers when there is none (errors before routing, a named expert). */
export const NONE = 'none';

/** server-timing: the gateway's own time before forwarding, and the part spent classifying. */
export function serverTiming(gatewayMs: number, classifyMs: number): string {
  return `gateway;dur=${gatewayMs.toFixed(3)}, classify;dur=${classifyMs.toFixed(3)}`;
}

export function gatewayHeaders(expert: string, cluster: string, gatewayMs: number, classifyMs: number): Record<string, string> {
  return { [EXPERT_HEADER]: expert, [CLUSTER_HEADER]: cluster, 'server-timing': serverTiming(gatewayMs, classifyMs) };
}
