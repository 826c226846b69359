/**
 * Step time of one engine iteration, from a roofline: max(memory time, compute time) + fixed step
 * overhead + per-sequence scheduling overhead + tensor-parallel all-reduce time. Every coefficient
 * comes from the deployment's profiles (data/profiles), none from code.
 */
import { paramCount, type Deployment } from './profiles.js';

/** What one iteration computes, summed over its sequences. */
export interface StepLoad {
  /** Sequences that decode one token in this step. */
  decodeSeqs: number;
  /** Sum of the context lengths (KV tokens read) of the decoding sequences. */
  decodeContext: number;
  /** Sequences that compute a chunk of prefill in this step. */
  prefillSeqs: number;
  /** Prompt tokens computed in this step (chunks of prefill). */
  prefillTokens: number;
  /** Sum over prefill chunks of the KV tokens each chunk's tokens attend to (n*p + n^2/2). */
  prefillAttention: number;
  /** Sum over prefill chunks of the KV tokens they read from earlier chunks or recompute. */
  prefillContext: number;
}

export interface StepModel {
  /** Step duration in milliseconds. */
  stepMs(load: StepLoad): number;
  /** The roofline terms of a step, for reports and tests. */
  breakdown(load: StepLoad): StepBreakdown;
}

export interface StepBreakdown {
  memoryMs: number;
  computeMs: number;
  overheadMs: number;
  allReduceMs: number;
  totalMs: number;
}

const ACTIVATION_BYTES = 2;

export function createStepModel(d: Deployment): StepModel {
  const { model, engine, gpu } = d;
  const tp = d.gpus;
  const { total, embedding } = paramCount(model);
  // The input embedding is a lookup; the LM head (or tied embedding) is a matmul.
  const matmulParams = total - embedding + model.vocab_size * model.hidden_size;
  const linearFlopsPerToken = 2 * matmulParams;
  // QK^T and AV: 2 matmuls x 2 FLOPs x heads x head_dim per layer and attended token.
  const attentionFlopsPerPair = 4 * model.layers * model.hidden_size;
  const bandwidth = gpu.bandwidth_gbs * 1e9 * engine.memory_efficiency;
  const prefillRate = d.peakFlops * engine.prefill_efficiency;
  const decodeRate = d.peakFlops * engine.decode_efficiency;
  const weightBytesPerGpu = d.weightBytes / tp;
  const kvBytesPerTokenPerGpu = d.kvBytesPerToken / tp;
  const linkBytesPerMs = gpu.link_gbs * 1e6;
  const allReducesPerStep = 2 * model.layers;

  const out: StepBreakdown = { memoryMs: 0, computeMs: 0, overheadMs: 0, allReduceMs: 0, totalMs: 0 };
  // Writes into `out` so the hot loop of virtual time allocates nothing per step.
  const compute = (load: StepLoad): StepBreakdown => {
    const tokens = load.decodeSeqs + load.prefillTokens;
    const kvRead = (load.decodeContext + load.prefillContext) * kvBytesPerTokenPerGpu;
    out.memoryMs = ((weightBytesPerGpu + kvRead) / bandwidth) * 1e3;
    const prefillFlops = load.prefillTokens * linearFlopsPerToken + load.prefillAttention * attentionFlopsPerPair;
    const decodeFlops = load.decodeSeqs * linearFlopsPerToken + load.decodeContext * attentionFlopsPerPair;
    out.computeMs = ((prefillFlops / prefillRate + decodeFlops / decodeRate) / tp) * 1e3;
    out.overheadMs = engine.step_overhead_ms + (engine.per_seq_overhead_us * (load.decodeSeqs + load.prefillSeqs)) / 1e3;
    out.allReduceMs = 0;
    if (tp > 1) {
      // Ring all-reduce of the activations, twice per layer (after attention and after the MLP).
      const bytes = tokens * model.hidden_size * ACTIVATION_BYTES;
      const perCall = engine.allreduce_latency_us / 1e3 + ((2 * (tp - 1)) / tp) * (bytes / linkBytesPerMs);
      out.allReduceMs = allReducesPerStep * perCall;
    }
    out.totalMs = Math.max(out.memoryMs, out.computeMs) + out.overheadMs + out.allReduceMs;
    return out;
  };
  return { stepMs: (load) => compute(load).totalMs, breakdown: (load) => ({ ...compute(load) }) };
}
