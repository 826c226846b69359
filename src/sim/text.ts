/** Deterministic filler text for simulated output: one word-piece per token. */
import type { Rng } from './rng.js';

const PIECES = (
  ' the a model answer is of to and in that it for this with as on be by can are from an at which we' +
  ' result value data each first token step one more time case example using where when then so' +
  ' system expert route request given number function output input because also here two'
).split(' ').slice(1).map((w) => ` ${w}`);

export function nextPiece(rng: Rng): string {
  return PIECES[Math.floor(rng.next() * PIECES.length)];
}
