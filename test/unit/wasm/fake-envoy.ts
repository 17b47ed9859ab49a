// A small stand-in for Envoy's side of proxy-wasm ABI 0.2.1, enough to drive the filter module
// in Node: root and connection contexts, the downstream buffer (kept, as Envoy keeps it, while
// the filter pauses), plugin configuration, counters, logs, ticks, time and stream closes. The
// integration suite runs the same module in the real Envoy.
import { instantiate, wasmModule, type WasmMemory } from '../../support/wasm-modules';

interface FilterExports {
  memory: WasmMemory;
  malloc(size: number): number;
  proxy_on_context_create(id: number, parent: number): void;
  proxy_on_vm_start(root: number, size: number): number;
  proxy_on_configure(root: number, size: number): number;
  proxy_on_tick(root: number): void;
  proxy_on_new_connection(id: number): number;
  proxy_on_downstream_data(id: number, size: number, endOfStream: number): number;
  proxy_on_downstream_connection_close(id: number, peer: number): void;
  proxy_on_done(id: number): number;
  proxy_on_delete(id: number): void;
}

const OK = 0;
const NOT_FOUND = 1;
const BAD_ARGUMENT = 2;
const DOWNSTREAM_DATA = 2;
const PLUGIN_CONFIGURATION = 7;
export const CONTINUE = 0;
export const PAUSE = 1;

interface Conn {
  buffer: Buffer;
  forwarded: Buffer;
  closedByFilter: boolean;
  /** Filter state set through set_envoy_filter_state: name → value. */
  filterState: Map<string, { value: string; span: number }>;
}

/** Factories Envoy 1.40 registers that the filter may name; any other answers NotFound, as Envoy does. */
const FILTER_STATE_FACTORIES = new Set(['envoy.hashable_string', 'envoy.string', 'envoy.tcp_proxy.cluster']);

/** SetEnvoyFilterStateArguments {path = 1, value = 2, span = 3}, decoded strictly: any other field is an error. */
export function decodeFilterStateArguments(bytes: Buffer): { path: string; value: string; span: number } {
  const out = { path: '', value: '', span: 0 };
  let at = 0;
  const varint = (): number => {
    let n = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length) throw new Error('varint runs past the end');
      const b = bytes[at++];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    if (tag === 0x0a || tag === 0x12) {
      const len = varint();
      if (at + len > bytes.length) throw new Error('string runs past the end');
      const text = bytes.toString('utf8', at, at + len);
      at += len;
      if (tag === 0x0a) out.path = text;
      else out.value = text;
    } else if (tag === 0x18) out.span = varint();
    else throw new Error(`unexpected tag ${tag}`);
  }
  return out;
}

export class FakeEnvoy {
  readonly logs: Array<{ level: number; text: string }> = [];
  /** The level proxy_get_log_level reports (Envoy's: 0 trace … 5 critical); lines below it are dropped. */
  logLevel = 0;
  /** Lines the filter passed below logLevel: built for nothing. */
  droppedLogs = 0;
  readonly counters = new Map<string, number>();
  /** Downstream reads the filter asked for past the end of the buffer (none: every read is in bounds). */
  outOfBoundsReads = 0;
  /** Bytes of downstream data copied into the module, over all reads. */
  copiedDownstreamBytes = 0;
  /** proxy_get_buffer_bytes calls for downstream data: each one also calls back into malloc. */
  downstreamCopies = 0;
  tickPeriodMs = 0;
  /** As Envoy may: proxy_close_stream tells the filter of the close at once, from inside the call. */
  reenterOnClose = false;
  nowMs = 1_000_000;
  private readonly x: FilterExports;
  private readonly metricNames = new Map<number, string>();
  private readonly conns = new Map<number, Conn>();
  private current = 0;
  private config = Buffer.alloc(0);
  private nextId = 2;
  private readonly rootId = 1;

  constructor() {
    this.x = instantiate<FilterExports>(wasmModule('mqtt-filter'), this.imports());
    this.x.proxy_on_context_create(this.rootId, 0);
    this.x.proxy_on_vm_start(this.rootId, 0);
  }

  configure(json: string): boolean {
    this.config = Buffer.from(json, 'utf8');
    return this.call(this.rootId, () => this.x.proxy_on_configure(this.rootId, this.config.length)) === 1;
  }

  connect(): number {
    const id = this.nextId++;
    this.conns.set(id, { buffer: Buffer.alloc(0), forwarded: Buffer.alloc(0), closedByFilter: false, filterState: new Map() });
    this.x.proxy_on_context_create(id, this.rootId);
    expect(this.call(id, () => this.x.proxy_on_new_connection(id))).toBe(CONTINUE);
    return id;
  }

  /** A read from the client: appended to what the filter left in the buffer, as Envoy does. */
  data(id: number, bytes: Uint8Array, endOfStream = false): number {
    const conn = this.conn(id);
    conn.buffer = Buffer.concat([conn.buffer, bytes]);
    const action = this.call(id, () => this.x.proxy_on_downstream_data(id, conn.buffer.length, endOfStream ? 1 : 0));
    if (action === CONTINUE) {
      conn.forwarded = Buffer.concat([conn.forwarded, conn.buffer]);
      conn.buffer = Buffer.alloc(0);
    }
    return action;
  }

  /** The client closed; Envoy then tells the filter, and finishes the context. */
  peerClose(id: number): void {
    this.call(id, () => this.x.proxy_on_downstream_connection_close(id, 2));
    this.finish(id);
  }

  finish(id: number): void {
    expect(this.call(id, () => this.x.proxy_on_done(id))).toBe(1);
    this.x.proxy_on_delete(id);
    this.conns.delete(id);
  }

  advance(ms: number): void {
    this.nowMs += ms;
    this.call(this.rootId, () => this.x.proxy_on_tick(this.rootId));
  }

  closed(id: number): boolean {
    return this.conn(id).closedByFilter;
  }

  forwarded(id: number): Buffer {
    return this.conn(id).forwarded;
  }

  /** Forgets what was forwarded so far (a long stream would otherwise be kept, and copied on each read). */
  clearForwarded(id: number): void {
    this.conn(id).forwarded = Buffer.alloc(0);
  }

  /** The connection's filter state the filter set (name → value). */
  filterState(id: number): Map<string, { value: string; span: number }> {
    return this.conn(id).filterState;
  }

  /** The module's linear memory now: it only grows, so its size is the most the module ever held. */
  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  counter(name: string): number | undefined {
    return this.counters.get(name);
  }

  private conn(id: number): Conn {
    const conn = this.conns.get(id);
    if (!conn) throw new Error(`no connection ${id}`);
    return conn;
  }

  private call<T>(id: number, f: () => T): T {
    this.current = id;
    try {
      return f();
    } finally {
      this.current = 0;
    }
  }

  private mem(): Buffer {
    return Buffer.from(this.x.memory.buffer);
  }

  private imports(): Record<string, unknown> {
    const u32 = (ptr: number, value: number): void => {
      this.mem().writeUInt32LE(value >>> 0, ptr);
    };
    return {
      proxy_log: (level: number, ptr: number, len: number) => {
        if (level >= this.logLevel) this.logs.push({ level, text: this.mem().toString('utf8', ptr, ptr + len) });
        else this.droppedLogs++;
        return OK;
      },
      proxy_get_log_level: (ptr: number) => {
        u32(ptr, this.logLevel);
        return OK;
      },
      proxy_get_buffer_bytes: (type: number, start: number, max: number, retData: number, retSize: number) => {
        let source: Buffer;
        if (type === PLUGIN_CONFIGURATION) source = this.config;
        else if (type === DOWNSTREAM_DATA && this.conns.has(this.current)) source = this.conn(this.current).buffer;
        else return NOT_FOUND;
        const slice = source.subarray(start, start + max);
        if (type === DOWNSTREAM_DATA) {
          if (start + max > source.length) this.outOfBoundsReads++;
          this.copiedDownstreamBytes += slice.length;
          this.downstreamCopies++;
        }
        const ptr = this.x.malloc(slice.length);
        slice.copy(this.mem(), ptr);
        u32(retData, ptr);
        u32(retSize, slice.length);
        return OK;
      },
      proxy_close_stream: (type: number) => {
        if (type !== 2 || !this.conns.has(this.current)) return NOT_FOUND;
        this.conn(this.current).closedByFilter = true;
        if (this.reenterOnClose) this.x.proxy_on_downstream_connection_close(this.current, 1);
        return OK;
      },
      proxy_define_metric: (_type: number, ptr: number, len: number, retId: number) => {
        const name = this.mem().toString('utf8', ptr, ptr + len);
        const id = this.metricNames.size + 1;
        this.metricNames.set(id, name);
        this.counters.set(name, 0);
        u32(retId, id);
        return OK;
      },
      proxy_increment_metric: (id: number, offset: bigint) => {
        const name = this.metricNames.get(id);
        if (name === undefined) return NOT_FOUND;
        this.counters.set(name, (this.counters.get(name) ?? 0) + Number(offset));
        return OK;
      },
      proxy_set_tick_period_milliseconds: (period: number) => {
        this.tickPeriodMs = period;
        return OK;
      },
      proxy_get_current_time_nanoseconds: (ptr: number) => {
        this.mem().writeBigUInt64LE(BigInt(this.nowMs) * 1_000_000n, ptr);
        return OK;
      },
      proxy_call_foreign_function: (
        namePtr: number,
        nameLen: number,
        argsPtr: number,
        argsLen: number,
        retData: number,
        retSize: number,
      ) => {
        const name = this.mem().toString('utf8', namePtr, namePtr + nameLen);
        if (name !== 'set_envoy_filter_state') return NOT_FOUND;
        if (!this.conns.has(this.current)) return BAD_ARGUMENT;
        const args = decodeFilterStateArguments(Buffer.from(this.mem().subarray(argsPtr, argsPtr + argsLen)));
        if (!FILTER_STATE_FACTORIES.has(args.path)) return NOT_FOUND;
        this.conn(this.current).filterState.set(args.path, { value: args.value, span: args.span });
        u32(retData, 0);
        u32(retSize, 0);
        return OK;
      },
      proxy_set_effective_context: (id: number) => {
        if (!this.conns.has(id) && id !== this.rootId) return NOT_FOUND;
        this.current = id;
        return OK;
      },
    };
  }
}
