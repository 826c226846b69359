/**
 * expert-router: the public library API. The five capabilities' main entry points, their
 * options and results, and the errors they throw; each capability's full surface is its subpath
 * (`expert-router/classifier`, `/gateway`, `/sim`, `/harness`, `/experiment`).
 */
export { ExpertRouterError } from './common/errors.js';
export { ApiError, ERROR_CODES, type ErrorCode, type OpenAIErrorBody } from './protocol/errors.js';

// Classifier: train or load a model, classify a prompt.
export {
  trainClassifier,
  loadModel,
  saveModel,
  defaultModel,
  readExamples,
  evaluate,
  ClassifierModel,
  ClassifierError,
  type LabelledText,
  type TrainOptions,
  type Prediction,
  type PromptClassifier,
  type EvalReport,
} from './classifier/index.js';

// Gateway: validate a configuration, start the routing server.
export {
  startGateway,
  parseGatewayConfig,
  loadGatewayConfig,
  ConfigError,
  type GatewayConfig,
  type GatewayConfigInput,
  type GatewayDeps,
  type RunningGateway,
  type RouteDecision,
} from './gateway/index.js';

// Simulator: GPU inference servers without a GPU, in real or virtual time.
export {
  startSimServer,
  startSimServers,
  loadSimConfig,
  createEngine,
  resolveProfile,
  listProfiles,
  VirtualClock,
  RealClock,
  SimError,
  type SimServer,
  type SimServerOptions,
  type SimEngine,
  type EngineOptions,
  type Deployment,
  type FaultSettings,
} from './sim/index.js';

// Load harness: drive an endpoint with simulated users, summarise, report.
export {
  runBench,
  loadPrompts,
  toSummary,
  writeBenchOutputs,
  HarnessError,
  type BenchOptions,
  type BenchResult,
  type BenchSummary,
  type LevelSummary,
  type LoadSpec,
  type Slo,
} from './harness/index.js';

// Experiments: configurations × load levels, virtual or live.
export { runExperiment, loadExperimentSpec, loadPreset, SpecError, type ExperimentSpec, type LoadPlan, type ExperimentResult } from './experiment/index.js';
