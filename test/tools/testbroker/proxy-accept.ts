// The shell around the PROXY decoder for one accepted socket: reads chunks until the
// header is decided or its deadline passes, then either destroys the socket or puts the
// bytes after the header back (unshift) and hands the socket on, so the MQTT broker reads
// the stream exactly as the client sent it and still owns the real socket (back-pressure,
// writableNeedDrain).
import type { Socket } from 'node:net';
import { ProxyHeaderReader, type ProxyError, type ProxyHeader } from './proxy-protocol';

export const PROXY_MODES = ['off', 'required', 'optional'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export interface ProxyAcceptOptions {
  /** 'optional': a connection that does not start with a signature is passed on as it is. */
  readonly mode: 'required' | 'optional';
  readonly maxHeaderBytes: number;
  readonly headerTimeoutMs: number;
}

export type ProxyOutcome =
  | { readonly kind: 'header'; readonly header: ProxyHeader }
  | { readonly kind: 'absent' }
  | { readonly kind: 'refused'; readonly error: ProxyError };

/**
 * Decides `socket`'s PROXY header. `decided` is called exactly once; then, unless the
 * outcome is `refused` (the socket is destroyed first), `pass(socket)` with its payload
 * unread.
 */
export function acceptProxied(
  socket: Socket,
  options: ProxyAcceptOptions,
  decided: (outcome: ProxyOutcome) => void,
  pass: (socket: Socket) => void,
): void {
  const reader = new ProxyHeaderReader({ maxHeaderBytes: options.maxHeaderBytes, optional: options.mode === 'optional' });
  let finished = false;
  const finish = (outcome: ProxyOutcome, rest?: Buffer): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.off('error', onEnd);
    if (outcome.kind === 'refused') {
      // Whatever the peer sends now is not for anyone; an error after destroy is not news.
      socket.on('error', () => undefined);
      socket.destroy();
      decided(outcome);
      return;
    }
    socket.pause();
    if (rest !== undefined && rest.length > 0) socket.unshift(rest);
    decided(outcome);
    pass(socket);
  };
  const onData = (chunk: Buffer): void => {
    const step = reader.push(chunk);
    if (step.kind === 'more') return;
    if (step.kind === 'error') finish({ kind: 'refused', error: step.error });
    else finish(step.kind === 'header' ? { kind: 'header', header: step.header } : { kind: 'absent' }, step.rest);
  };
  const onEnd = (): void => finish({ kind: 'refused', error: reader.end() });
  const timer = setTimeout(() => finish({ kind: 'refused', error: reader.expire(options.headerTimeoutMs) }), options.headerTimeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  socket.once('error', onEnd);
}
