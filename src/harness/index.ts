/** The load harness: simulated users against OpenAI or Triton endpoints, metrics and reports. */
export type { RequestRecord, Slo, ErrorKind, LoadSpec, ThinkTime, Prompt, Protocol } from './types.js';
export { ERROR_KINDS } from './types.js';
export type { Stats } from './stats.js';
export { summarize } from './stats.js';
export type { LevelSummary, ExpertSummary, ClientHealth, SummarizeOptions } from './metrics.js';
export { summarizeLevel, requestTimings, meetsSlo } from './metrics.js';
export { parseDuration, parseNumberList, parseSlo, parseThinkTime, parseLength, type LengthSpec } from './parse.js';
export { loadPrompts, type PromptSpec, type PromptOptions, type PromptSet } from './prompts.js';
export { arrivalTimes, arrivalSchedule, type ArrivalKind } from './arrivals.js';
export { createRng, subSeed, shuffle, type Rng } from '../common/rng.js';
export { runBench } from './runner.js';
export { splitTarget, type BenchOptions, type BenchHooks, type BenchResult, type RunMeta, type ProgressSnapshot, type RouteChoice } from './options.js';
export { parsePrometheusText, type InfraSeries } from './scrape.js';
export { renderComparisonReport, type ReportInput, type ReportSeries } from './report/render.js';
export { writeBenchOutputs, readRunSummary, renderRunsComparison, toSummary, summaryCsv, seriesOf } from './outputs.js';
export { benchSummarySchema, levelSummarySchema, SUMMARY_SCHEMA_ID, SUMMARY_VERSION, type BenchSummary } from './summary-schema.js';
export { createProgressReporter, type ProgressReporter } from './progress.js';
export { escapeHtml } from './report/svg.js';
