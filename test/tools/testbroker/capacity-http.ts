// The plumbing the test broker's admin and agent APIs share: a reply as a value, a
// size-capped body reader and the writer. No routing and no behaviour.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRICS_CONTENT_TYPE } from './capacity-metrics';

export interface Reply {
  status: number;
  json?: unknown;
  /** Sent as the Prometheus text format instead of JSON. */
  text?: string;
  headers?: Record<string, string>;
}

/** The body as text, or undefined once it exceeds `maxBytes` (the rest is still drained). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, reply: Reply): void {
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.text !== undefined) {
    res.writeHead(reply.status, { 'Content-Type': METRICS_CONTENT_TYPE });
    res.end(reply.text);
  } else {
    res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(`${JSON.stringify(reply.json, null, 2)}\n`);
  }
}
