// The filter's counters. Names carry their tags as dotted parts ("….protocol_version.5"), the
// way Envoy's own stats do; stats_config tag specifiers turn them into Prometheus labels
// (docs/mqtt-filter.md). A tenant's chain puts ".tenant.<name>" right after the base name.
// Envoy shows them under its "wasmcustom." scope.
import { LogLevel, MetricType, Status, proxy_define_metric, proxy_increment_metric } from '../abi/host';
import { log } from '../abi/memory';
import { StreamClose, STREAM_CLOSE_COUNT, streamCloseName } from '../mqtt/framing';
import { Refusal, REFUSAL_COUNT, refusalName } from '../mqtt/refusal';

/** What sticky placement did with an accepted CONNECT. */
export enum Placement {
  /** The client id was set as the hash key. */
  Hashed = 0,
  /** An empty (server-assigned) client id: no key, tcp_proxy's cluster picks by weight. */
  NoClientId = 1,
  /** Envoy refused the key (the log says why): no key, as for an empty id. */
  Failed = 2,
}
const PLACEMENT_NAMES = ['hashed', 'no_client_id', 'failed'];

const ID_SLOT: usize = memory.data(4);

function defineCounter(name: string): u32 {
  const encoded = String.UTF8.encode(name);
  store<u32>(ID_SLOT, 0);
  const status = proxy_define_metric(MetricType.Counter, changetype<usize>(encoded), encoded.byteLength, ID_SLOT);
  if (status != Status.Ok) {
    log(LogLevel.Warn, 'mqtt-filter: cannot define counter ' + name + ' (status ' + status.toString() + ')');
    return 0;
  }
  return load<u32>(ID_SLOT);
}

export class Metrics {
  /** Index: protocol level 3, 4, 5 (0–2 unused). */
  private accepted: u32[] = [0, 0, 0, 0, 0, 0];
  private refused: u32[] = new Array<u32>(REFUSAL_COUNT);
  private connections: u32 = 0;
  /** Sticky placement: index Placement below. */
  private placement: u32[] = [0, 0, 0];
  /** PUBLISH inspection: packets read, and closes by StreamClose. */
  private inspected: u32 = 0;
  private streamClosed: u32[] = new Array<u32>(STREAM_CLOSE_COUNT);

  /** @param tenant the chain's tenant (the label); empty: the default chain, no label. */
  constructor(public tenant: string = '') {
    const t = tenant.length > 0 ? '.tenant.' + tenant : '';
    for (let level = 3; level <= 5; level++)
      this.accepted[level] = defineCounter('mqtt_connect_total' + t + '.protocol_version.' + level.toString());
    for (let r = 1; r < REFUSAL_COUNT; r++)
      this.refused[r] = defineCounter('mqtt_connect_refused_total' + t + '.reason.' + refusalName(<Refusal>r));
    this.connections = defineCounter('mqtt_connections_total' + t);
    for (let r = 0; r < PLACEMENT_NAMES.length; r++)
      this.placement[r] = defineCounter('mqtt_placement_total' + t + '.result.' + PLACEMENT_NAMES[r]);
    this.inspected = defineCounter('mqtt_publish_inspected_total' + t);
    for (let r = 1; r < STREAM_CLOSE_COUNT; r++)
      this.streamClosed[r] = defineCounter('mqtt_stream_closed_total' + t + '.reason.' + streamCloseName(<StreamClose>r));
  }

  publishes(n: u32): void {
    if (n > 0 && this.inspected != 0) proxy_increment_metric(this.inspected, <i64>n);
  }

  closeStream(reason: StreamClose): void {
    if (<i32>reason > 0 && <i32>reason < STREAM_CLOSE_COUNT) bump(this.streamClosed[<i32>reason]);
  }

  placed(result: Placement): void {
    bump(this.placement[<i32>result]);
  }

  connection(): void {
    bump(this.connections);
  }

  accept(level: u8): void {
    if (level >= 3 && level <= 5) bump(this.accepted[level]);
  }

  refuse(reason: Refusal): void {
    if (<i32>reason > 0 && <i32>reason < REFUSAL_COUNT) bump(this.refused[<i32>reason]);
  }
}

function bump(id: u32): void {
  if (id != 0) proxy_increment_metric(id, 1);
}
