// One ADS stream's logger: the server's logger, with the stream's id, kind and peer added
// to each line it writes. One small object per stream: a child logger was a dozen (its
// closures and merged fields), built in a connect storm for every one of 10,000 streams.
import type { LogFields, Logger } from '../util/log';
import type { StreamKind } from './stream-status';

export class StreamLogger implements Logger {
  constructor(
    private readonly parent: Logger,
    private readonly stream: number,
    private readonly kind: StreamKind,
    /** Read once when the stream opens: the socket may be gone by the time it closes. */
    private readonly peer: string,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.parent.debug(msg, this.with(fields));
  }
  info(msg: string, fields?: LogFields): void {
    this.parent.info(msg, this.with(fields));
  }
  warn(msg: string, fields?: LogFields): void {
    this.parent.warn(msg, this.with(fields));
  }
  error(msg: string, fields?: LogFields): void {
    this.parent.error(msg, this.with(fields));
  }
  child(fields: LogFields): Logger {
    return this.parent.child(this.with(fields));
  }

  /** The same fields, in the same order, as a child logger's line would carry. */
  private with(fields: LogFields | undefined): LogFields {
    return { stream: this.stream, kind: this.kind, peer: this.peer, ...fields };
  }
}
