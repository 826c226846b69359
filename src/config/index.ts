export { parseGatewayConfig, loadGatewayConfig, ConfigError, formatKeyPath } from './load.js';
export type { GatewayConfig, GatewayConfigInput, ExpertConfig, ClassifyField, ClientKeyConfig } from './schema.js';
export { endpointPrefix, hashKey } from './schema.js';
export { CONFIG_DEFAULTS, CLASSIFY_FIELDS, DEFAULT_CLASSIFY_FIELDS, TRANSPORT_DEFAULTS, UNKNOWN_MODEL_POLICIES } from './defaults.js';
