/**
 * Writes the body of a streamed HTTP response one piece per socket write. node:http's res.write
 * frames each chunk as four buffers, corks the socket and uncorks it on the next tick: with
 * hundreds of streams written per engine step, that bookkeeping costs about as much as the write
 * system call and is most of the token timing error. Here each piece becomes one HTTP/1.1 chunk
 * (`<hex length>\r\n<data>\r\n`) in one string, written straight to the socket once node:http has
 * sent the head. The end still goes through res.end, so node:http writes the last chunk
 * (`0\r\n\r\n`) and keeps the connection's state (keep-alive, the next request) as usual; a client
 * that goes away still closes the response.
 */
import type { ServerResponse } from 'node:http';

export type PieceWriter = (text: string) => void;

/** Sends the head (status and headers set with writeHead) and returns the body writer. */
export function openStream(res: ServerResponse): PieceWriter {
  res.flushHeaders();
  const socket = res.socket;
  // Not chunked (an HTTP/1.0 client) or not on the socket yet (a pipelined request waiting its
  // turn): node:http's own path frames and queues correctly.
  if (!res.chunkedEncoding || socket === null || !res.headersSent) return (text) => void res.write(text);
  return (text) => {
    if (socket.destroyed) return;
    socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  };
}
