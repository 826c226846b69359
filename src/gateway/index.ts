export { startGateway, type GatewayDeps, type RunningGateway } from './server.js';
export { ExpertRouter, type ExpertRuntime, type RouteDecision, type RouteReason } from './expert-router.js';
export { textToClassify, type ClassifyText } from './classify-text.js';
export { EXPERT_HEADER, CLUSTER_HEADER, REPLICA_HEADER, REASON_HEADER, CONFIDENCE_HEADER, REQUEST_ID_HEADER, SESSION_HEADER } from './headers.js';
export { parseGatewayConfig, loadGatewayConfig, ConfigError, type GatewayConfig, type GatewayConfigInput } from '../config/index.js';
