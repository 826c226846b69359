/**
 * Writes the body of a streamed HTTP response one piece per socket write. node:http's res.write
 * frames each chunk as four buffers, corks the socket and uncorks it on the next tick: with
 * hundreds of streams written per engine step, that bookkeeping costs about as much as the write
 * system call and is most of the token timing error. Here each piece becomes one HTTP/1.1 chunk
 * (`<hex length>\r\n<data>\r\n`) in one string, written straight to the socket once node:http has
 * sent the head (see chunkSocket); a client that goes away still closes the response.
 */
import type { ServerResponse } from 'node:http';
import { chunkSocket } from '../protocol/index.js';

export type PieceWriter = (text: string) => void;

/** Sends the head (status and headers set with writeHead) and returns the body writer. */
export function openStream(res: ServerResponse): PieceWriter {
  res.flushHeaders();
  const socket = chunkSocket(res);
  if (socket === null) return (text) => void res.write(text);
  return (text) => {
    if (socket.destroyed) return;
    socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  };
}
