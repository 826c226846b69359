export { parseGatewayConfig, loadGatewayConfig, ConfigError, formatKeyPath } from './load.js';
export type { GatewayConfig, GatewayConfigInput, ExpertConfig, ClassifyField } from './schema.js';
export { CONFIG_DEFAULTS, CLASSIFY_FIELDS, DEFAULT_CLASSIFY_FIELDS } from './defaults.js';
