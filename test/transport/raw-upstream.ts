/**
 * A raw TCP upstream for tests: `answer` gets every POST (its head, body and its number on the
 * connection) and writes whatever bytes it likes; GETs (the gateway's health probes) are answered
 * 200 so the replica stays up. Counts connections and POSTs. Loopback, ephemeral port.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface RawRequest {
  head: string;
  body: string;
  /** 1 for the first request on this connection. */
  nth: number;
}

export interface RawUpstream {
  url: string;
  server: Server;
  /** POSTs received (each a delivery of a request to "the model"). */
  posts: RawRequest[];
  connections(): number;
  /** Sockets closed so far (by either side). */
  closedSockets(): number;
  close(): Promise<void>;
}

const HEALTH = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"data":[]}';

/** Calls `onRequest` for each whole request (head and content-length body) read from `socket`. */
export function onRequests(socket: Socket, onRequest: (req: RawRequest) => void): void {
  let buffered = '';
  let nth = 0;
  socket.on('data', (bytes) => {
    buffered += bytes.toString('latin1');
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffered.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.slice(end + 4, end + 4 + length);
      buffered = buffered.slice(end + 4 + length);
      onRequest({ head, body, nth: ++nth });
    }
  });
}

export async function rawUpstream(answer: (socket: Socket, req: RawRequest) => void): Promise<RawUpstream> {
  let connections = 0;
  let closed = 0;
  const posts: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => {
      closed++;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    onRequests(socket, (req) => {
      if (req.head.startsWith('GET ')) socket.write(HEALTH);
      else {
        posts.push(req);
        answer(socket, req);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    posts,
    connections: () => connections,
    closedSockets: () => closed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An SSE chunk of a chat completion stream, as an expert writes it. */
export function sseChunk(content: string): string {
  return `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

/** One chunked-coding frame. */
export function frame(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

export const SSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
