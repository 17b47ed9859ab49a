// The module's exports: proxy-wasm ABI 0.2.1 entry points for a network filter that reads the
// first packet of each downstream connection as an MQTT CONNECT (docs/mqtt-filter.md).
import './abort/abort';
// Every export that can make garbage ends in collectIfDue: the minimal runtime collects only
// there, where nothing managed is held on the stack (abi/collect.ts).
import { Action } from './abi/host';
import { collectIfDue, collectNow } from './abi/collect';
import { hostAlloc } from './abi/memory';
import { Connection, Root } from './filter/contexts';

const roots = new Map<u32, Root>();
const connections = new Map<u32, Connection>();

// The connection of the last callback: Envoy calls several times in a row for one connection
// (new connection, data, close, done, delete), so most lookups skip the map.
let lastId: u32 = 0;
let last: Connection | null = null;

function connection(id: u32): Connection | null {
  if (id == lastId && last != null) return last;
  if (!connections.has(id)) return null;
  const conn = connections.get(id);
  lastId = id;
  last = conn;
  return conn;
}

export function proxy_abi_version_0_2_1(): void {}

/** Envoy allocates in our memory through this to hand us buffers and properties. */
export function malloc(size: usize): usize {
  return hostAlloc(size);
}

export function proxy_on_context_create(context_id: u32, parent_context_id: u32): void {
  if (parent_context_id == 0) {
    roots.set(context_id, new Root(context_id));
    return;
  }
  if (!roots.has(parent_context_id)) return;
  const conn = new Connection(context_id, roots.get(parent_context_id));
  connections.set(context_id, conn);
  lastId = context_id;
  last = conn;
  collectIfDue();
}

export function proxy_on_vm_start(_root_context_id: u32, _vm_configuration_size: usize): u32 {
  return 1;
}

export function proxy_on_configure(root_context_id: u32, plugin_configuration_size: usize): u32 {
  if (!roots.has(root_context_id)) return 0;
  const ok = roots.get(root_context_id).configure(plugin_configuration_size);
  // A configuration's parse leaves its text, its JSON and a former configuration behind.
  collectNow();
  return ok ? 1 : 0;
}

export function proxy_on_tick(root_context_id: u32): void {
  if (roots.has(root_context_id)) roots.get(root_context_id).tick(connections);
  collectIfDue();
}

export function proxy_on_new_connection(context_id: u32): u32 {
  const conn = connection(context_id);
  if (conn != null) conn.start();
  collectIfDue();
  return Action.Continue;
}

export function proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: u32): u32 {
  const conn = connection(context_id);
  if (conn == null) return Action.Continue;
  const action = conn.onData(data_size, end_of_stream != 0);
  collectIfDue();
  return action;
}

export function proxy_on_downstream_connection_close(context_id: u32, _peer_type: u32): void {
  const conn = connection(context_id);
  if (conn != null) conn.onClose();
  collectIfDue();
}

export function proxy_on_upstream_data(_context_id: u32, _data_size: usize, _end_of_stream: u32): u32 {
  return Action.Continue;
}

export function proxy_on_upstream_connection_close(_context_id: u32, _peer_type: u32): void {}

export function proxy_on_done(_context_id: u32): u32 {
  return 1;
}

export function proxy_on_delete(context_id: u32): void {
  const conn = connection(context_id);
  if (conn != null) {
    conn.root.pending.delete(context_id);
    connections.delete(context_id);
    lastId = 0;
    last = null;
  } else roots.delete(context_id);
  collectIfDue();
}
