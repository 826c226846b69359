/**
 * Deterministic filler text for simulated output: one word-piece per token. Each piece also comes
 * JSON-encoded, so streaming a token costs a string concatenation and no serialisation.
 */
import type { Rng } from '../common/rng.js';

const PIECES = (
  ' the a model answer is of to and in that it for this with as on be by can are from an at which we' +
  ' result value data each first token step one more time case example using where when then so' +
  ' system expert route request given number function output input because also here two'
).split(' ').slice(1).map((w) => ` ${w}`);

const PIECES_JSON = PIECES.map((p) => JSON.stringify(p));

/** Index of the next piece; read the text with pieceText and its JSON string with pieceJson. */
export function nextPiece(rng: Rng): number {
  return Math.floor(rng.next() * PIECES.length);
}

export function pieceText(i: number): string {
  return PIECES[i];
}

export function pieceJson(i: number): string {
  return PIECES_JSON[i];
}
