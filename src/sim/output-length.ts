/**
 * How many tokens a request generates when it does not set ignore_eos: a draw from a configurable
 * distribution, capped by max_tokens (and by the context left). With ignore_eos it is max_tokens exactly.
 */
import { z } from 'zod';
import type { Rng } from '../common/rng.js';

export const outputLengthSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), tokens: z.number().int().positive() }),
  z.object({ kind: z.literal('uniform'), min: z.number().int().positive(), max: z.number().int().positive() }),
  /** Log-normal by its median and the sigma of the log: a long tail, like chat answers. */
  z.object({ kind: z.literal('lognormal'), median: z.number().positive(), sigma: z.number().min(0) }),
]);

export type OutputLengthDistribution = z.infer<typeof outputLengthSchema>;

/** Default: chat-like answers, median 256 tokens (ShareGPT answers have a median of a few hundred). */
export const DEFAULT_OUTPUT_LENGTH: OutputLengthDistribution = { kind: 'lognormal', median: 256, sigma: 0.8 };

export function drawOutputLength(dist: OutputLengthDistribution, rng: Rng): number {
  switch (dist.kind) {
    case 'fixed':
      return dist.tokens;
    case 'uniform':
      return dist.min + Math.floor(rng.next() * (Math.max(dist.max, dist.min) - dist.min + 1));
    case 'lognormal':
      return Math.max(1, Math.round(dist.median * Math.exp(dist.sigma * rng.normal())));
  }
}

/** Tokens a request will generate: exactly maxTokens with ignoreEos, else min(draw, maxTokens). */
export function targetOutputTokens(maxTokens: number, ignoreEos: boolean, dist: OutputLengthDistribution, rng: Rng): number {
  return ignoreEos ? maxTokens : Math.min(maxTokens, drawOutputLength(dist, rng));
}
