/** Experiments: configurations × load levels, in virtual time or live, compared in one report. */
export { parseExperimentSpec, loadExperimentSpec, experimentSpecSchema, SpecError, type SpecErrorCode, type ExperimentSpec, type ConfigSpec, type LoadPlan } from './spec.js';
export { loadPreset, presetNames, PRESET_DIR } from './presets.js';
export { runExperiment, type ExperimentHooks, type RunExperimentOptions } from './runner.js';
export { writeExperimentOutputs, experimentSummary, EXPERIMENT_SCHEMA_ID, EXPERIMENT_SCHEMA_VERSION } from './outputs.js';
export type { ExperimentResult, ConfigResult, Finding, ExperimentClock } from './types.js';
