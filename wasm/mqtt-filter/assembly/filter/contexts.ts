// Root contexts (one per plugin configuration in this VM) and connection contexts (one per
// downstream connection). Envoy numbers both; a connection names its root as its parent.
import {
  Action,
  BufferType,
  LogLevel,
  Status,
  StreamType,
  proxy_close_stream,
  proxy_get_current_time_nanoseconds,
  proxy_set_effective_context,
  proxy_set_tick_period_milliseconds,
} from '../abi/host';
import { holdCollection, owe, releaseCollection } from '../abi/collect';
import { getBufferBytes, getBufferRaw, hostFree, lastReturnSize, log, logEnabled } from '../abi/memory';
import { ConnectParser, Verdict } from '../mqtt/connect';
import { PacketFramer, StreamClose, disconnectReason, streamCloseName } from '../mqtt/framing';
import { Refusal, connackReasonV5, refusalName } from '../mqtt/refusal';
import { FilterConfig, parseConfig } from './config';
import { InspectionConfig } from './inspection-config';
import { Metrics, Placement } from './metrics';
import { setHashKey, statusName } from './placement';

const TIME_SLOT: usize = memory.data(8);

function nowMs(): u64 {
  store<u64>(TIME_SLOT, 0);
  proxy_get_current_time_nanoseconds(TIME_SLOT);
  return load<u64>(TIME_SLOT) / 1_000_000;
}

export class Root {
  config: FilterConfig = new FilterConfig();
  metrics: Metrics | null = null;
  /** Connections still waiting for their CONNECT, for the deadline. */
  pending: Set<u32> = new Set<u32>();

  constructor(public id: u32) {}

  configure(size: usize): bool {
    const bytes = size > 0 ? getBufferBytes(BufferType.PluginConfiguration, 0, size) : new Uint8Array(0);
    const text = bytes ? String.UTF8.decode(bytes.buffer) : '';
    const config = parseConfig(text);
    if (config.error.length > 0) {
      log(LogLevel.Error, 'mqtt-filter: ' + config.error);
      return false;
    }
    this.config = config;
    const tenant = config.inspection.tenant;
    if (this.metrics == null || this.metrics!.tenant != tenant) this.metrics = new Metrics(tenant);
    // The deadline is checked on a tick: its precision is the tick period, a quarter of the timeout
    // (50 ms to 1 s), so a connection is closed between 1× and 1.25× the timeout.
    const timeout = config.firstPacketTimeoutMs;
    proxy_set_tick_period_milliseconds(timeout == 0 ? 0 : min(max(timeout / 4, 50), 1000));
    log(
      LogLevel.Info,
      'mqtt-filter: configured maxConnectBytes=' +
        config.maxConnectBytes.toString() +
        ' maxClientIdBytes=' +
        config.maxClientIdBytes.toString() +
        ' firstPacketTimeoutMs=' +
        timeout.toString() +
        ' placement=' +
        (config.sticky ? 'sticky' : 'weighted') +
        ' saltedIds=' +
        config.salts.entries.size.toString() +
        inspectionSummary(config.inspection),
    );
    return true;
  }

  tick(connections: Map<u32, Connection>): void {
    const timeout = <u64>this.config.firstPacketTimeoutMs;
    if (timeout == 0 || this.pending.size == 0) return;
    const now = nowMs();
    const ids = this.pending.values();
    owe(<usize>ids.length * 4 + 64);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!connections.has(id)) {
        this.pending.delete(id);
        continue;
      }
      const conn = connections.get(id);
      if (now - conn.startedMs < timeout) continue;
      conn.parser.refuseExternally(Refusal.FirstPacketTimeout, 'no complete CONNECT within ' + timeout.toString() + ' ms');
      // The close must run as the connection's context, not the root's.
      proxy_set_effective_context(id);
      conn.decide();
    }
  }
}

export class Connection {
  parser: ConnectParser;
  /** Bytes of Envoy's downstream buffer already given to the parser (Envoy keeps unconsumed data). */
  seen: usize = 0;
  startedMs: u64 = 0;
  decided: bool = false;
  /** PUBLISH inspection, once the CONNECT is accepted and the configuration asks for it. */
  framer: PacketFramer | null = null;
  /** The filter closed the connection after its CONNECT (framer.closed says why). */
  streamClosed: bool = false;
  /** Bytes copied per proxy_get_buffer_bytes while inspecting (INSPECT_WINDOW_MIN to _MAX). */
  window: usize = INSPECT_WINDOW_MIN;

  constructor(
    public id: u32,
    public root: Root,
  ) {
    this.parser = new ConnectParser(root.config.maxConnectBytes, root.config.maxClientIdBytes);
    // The connection, its parser and their parts, once Envoy deletes it.
    owe(CONNECTION_GARBAGE);
  }

  start(): void {
    const metrics = this.root.metrics;
    if (metrics) metrics.connection();
    if (this.root.config.firstPacketTimeoutMs > 0) {
      this.startedMs = nowMs();
      this.root.pending.add(this.id);
    }
  }

  onData(size: usize, endOfStream: bool): u32 {
    if (this.decided) {
      if (this.parser.verdict != Verdict.Accepted || this.streamClosed) return Action.Pause;
      // Inspection off: nothing to do per read once the CONNECT has passed.
      const framer = this.framer;
      if (framer == null) return Action.Continue;
      // After a Continue, tcp_proxy has taken the whole buffer: this read starts at 0.
      return this.inspect(framer, 0, size);
    }
    if (size > this.seen) {
      const want = min(<usize>this.parser.wanted(), size - this.seen);
      if (want > 0) {
        const ptr = getBufferRaw(BufferType.DownstreamData, this.seen, want);
        if (ptr != 0) {
          const got = lastReturnSize();
          this.parser.feedRaw(ptr, got);
          hostFree(ptr);
        }
      }
      this.seen = size;
    }
    if (endOfStream) this.parser.endOfStream();
    if (this.parser.verdict == Verdict.NeedMore) return Action.Pause;
    this.decide();
    if (this.parser.verdict != Verdict.Accepted) return Action.Pause;
    const framer = this.framer;
    if (framer == null) return Action.Continue;
    // The buffer holds the CONNECT from offset 0 and whatever the client sent after it.
    return this.inspect(framer, <usize>this.parser.info!.packetBytes, size);
  }

  /**
   * Follows the packets in Envoy's buffer from `from` to `size`. Header bytes are copied in
   * windows of INSPECT_WINDOW_MIN to _MAX bytes; whatever the framer passes over by count is never
   * copied. Continue lets the whole buffer through; a close answers Pause, so none of it goes on.
   */
  private inspect(framer: PacketFramer, from: usize, size: usize): u32 {
    let pos = from;
    while (pos < size && framer.closed == StreamClose.None) {
      const skip = <usize>framer.skipping();
      if (skip > 0) {
        const n = min(skip, size - pos);
        framer.skip(<u32>n);
        pos += n;
        continue;
      }
      const window = this.window;
      const ptr = getBufferRaw(BufferType.DownstreamData, pos, min(size - pos, window));
      if (ptr == 0) break;
      const got = <usize>lastReturnSize();
      framer.feedRaw(ptr, <u32>got);
      hostFree(ptr);
      if (got == 0) break;
      pos += got;
      // A packet running on past the window by more than the window: large payloads, copy
      // headers only. Otherwise the window held whole packets: widen it, so one host call
      // (and the host's call back into malloc) covers many small packets.
      this.window = <usize>framer.skipping() > window ? INSPECT_WINDOW_MIN : min(window << 1, INSPECT_WINDOW_MAX);
    }
    const metrics = this.root.metrics;
    if (metrics) metrics.publishes(framer.takePublishes());
    if (framer.closed == StreamClose.None) return Action.Continue;
    this.streamClosed = true;
    owe(CONNECTION_GARBAGE);
    if (metrics) metrics.closeStream(framer.closed);
    // As for a refused CONNECT: the DISCONNECT a server would send is logged, not sent (ABI 0.2.1
    // has no write to the downstream), for every protocol version.
    if (logEnabled(LogLevel.Debug))
      log(
        LogLevel.Debug,
        'mqtt-filter: connection closed: reason=' +
          streamCloseName(framer.closed) +
          ' disconnect_reason=0x' +
          disconnectReason(framer.closed).toString(16) +
          ' detail=' +
          quote(framer.detail),
      );
    closeDownstream();
    return Action.Pause;
  }

  /** The client went away; a connection still waiting for its CONNECT counts as truncated. */
  onClose(): void {
    if (this.decided) return;
    this.parser.endOfStream();
    this.decide(false);
  }

  /**
   * Sticky placement: the client id as tcp_proxy's hash key, set before the filter lets the
   * CONNECT through, which is when tcp_proxy (ON_DOWNSTREAM_DATA) picks the broker. An empty id
   * (server-assigned) sets no key; tcp_proxy then asks Maglev without one, which picks
   * at random in proportion to the weights.
   */
  place(clientId: string): void {
    const metrics = this.root.metrics;
    if (clientId.length == 0) {
      if (metrics) metrics.placed(Placement.NoClientId);
      return;
    }
    const status = setHashKey(this.root.config.salts.keyFor(clientId));
    if (status == Status.Ok) {
      if (metrics) metrics.placed(Placement.Hashed);
      return;
    }
    if (metrics) metrics.placed(Placement.Failed);
    log(LogLevel.Warn, 'mqtt-filter: set_envoy_filter_state refused the placement key: ' + statusName(status));
  }

  decide(close: bool = true): void {
    if (this.decided) return;
    this.decided = true;
    this.root.pending.delete(this.id);
    const p = this.parser;
    // The CONNECT's copy, the strings decoded from it, and the log line and placement key built
    // from them: each at most a few times the packet (UTF-16 is 2 bytes a unit, quoting up to 4).
    owe(<usize>p.consumed() * GARBAGE_PER_CONNECT_BYTE);
    const metrics = this.root.metrics;
    if (p.verdict == Verdict.Accepted) {
      const info = p.info!;
      if (metrics) metrics.accept(info.protocolVersion);
      if (this.root.config.sticky) this.place(info.clientId);
      const inspection = this.root.config.inspection;
      if (inspection.inspectPublish)
        this.framer = new PacketFramer(info.protocolVersion, inspection.maxPublishPayloadBytes, inspection.topicPrefixes);
      if (logEnabled(LogLevel.Debug))
        log(
          LogLevel.Debug,
          'mqtt-filter: CONNECT accepted: protocol_version=' +
            info.protocolVersion.toString() +
            ' client_id=' +
            quote(info.clientId) +
            (info.hasUsername ? ' username=' + quote(info.username) : '') +
            ' clean_start=' +
            (info.cleanStart ? '1' : '0') +
            ' keep_alive_s=' +
            info.keepAliveS.toString() +
            ' will=' +
            (info.willFlag ? '1' : '0') +
            ' bytes=' +
            info.packetBytes.toString(),
        );
      return;
    }
    if (metrics) metrics.refuse(p.refusal);
    // ABI 0.2.1 gives a network filter no way to write to the downstream connection, so the MQTT 5
    // CONNACK is named in the log but not sent; the spec allows closing without one.
    const code = p.protocolLevel == 5 ? connackReasonV5(p.refusal) : 0;
    if (logEnabled(LogLevel.Debug))
      log(
        LogLevel.Debug,
        'mqtt-filter: first packet refused: reason=' +
          refusalName(p.refusal) +
          (code != 0 ? ' connack_reason=0x' + code.toString(16) : '') +
          ' detail=' +
          quote(p.detail),
      );
    if (close) closeDownstream();
  }
}

/**
 * Bytes copied from Envoy's buffer per host call while inspecting: from 512 (a large payload is
 * passed over by count, only its header copied) up to 64 KiB (small packets, many per call; with
 * 512 the host call per ~4 PUBLISH made inspection cost 5× the filter without it, and 64 KiB
 * measured about 10 % less Envoy CPU per PUBLISH than 16 KiB: Envoy's reads are larger).
 */
const INSPECT_WINDOW_MIN: usize = 512;
const INSPECT_WINDOW_MAX: usize = 65536;

/** Garbage a connection leaves, besides its CONNECT's bytes: objects, a refusal's detail, counters' arguments. */
const CONNECTION_GARBAGE: usize = 2048;
/** Garbage per byte of the CONNECT: its copy, its strings (2 bytes a unit), a quoted log line and the hash key. */
const GARBAGE_PER_CONNECT_BYTE: usize = 16;

/** Closes the downstream; Envoy may call proxy_on_downstream_connection_close before this returns. */
function closeDownstream(): void {
  holdCollection();
  proxy_close_stream(StreamType.Downstream);
  releaseCollection();
}

function inspectionSummary(c: InspectionConfig): string {
  let out = c.tenant.length > 0 ? ' tenant=' + c.tenant : '';
  if (!c.inspectPublish) return out + ' inspectPublish=false';
  out += ' inspectPublish=true maxPublishPayloadBytes=' + c.maxPublishPayloadBytes.toString();
  for (let i = 0; i < c.topicPrefixes.length; i++) out += ' topicPrefix=' + quote(String.UTF8.decode(c.topicPrefixes[i].buffer));
  return out;
}

/**
 * A value for a log line: quoted, with quotes, backslashes and control characters escaped. Built
 * in one array of code units, so a long id makes one string, not one per character.
 */
export function quote(s: string): string {
  const out = new Array<i32>(0);
  out.push(0x22);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) {
      out.push(0x5c);
      out.push(c);
    } else if (c < 0x20 || c == 0x7f) {
      out.push(0x5c);
      out.push(0x78);
      out.push(HEX.charCodeAt(c >> 4));
      out.push(HEX.charCodeAt(c & 0xf));
    } else out.push(c);
  }
  out.push(0x22);
  return String.fromCharCodes(out);
}

const HEX = '0123456789abcdef';
