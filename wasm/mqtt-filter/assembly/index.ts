// The module's exports: proxy-wasm ABI 0.2.1 entry points for a network filter that reads the
// first packet of each downstream connection as an MQTT CONNECT (docs/mqtt-filter.md).
import './abort/abort';
import { Action } from './abi/host';
import { Connection, Root } from './filter/contexts';

const roots = new Map<u32, Root>();
const connections = new Map<u32, Connection>();

export function proxy_abi_version_0_2_1(): void {}

/** Envoy allocates in our memory through this to hand us buffers and properties. */
export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_context_create(context_id: u32, parent_context_id: u32): void {
  if (parent_context_id == 0) {
    roots.set(context_id, new Root(context_id));
    return;
  }
  if (!roots.has(parent_context_id)) return;
  connections.set(context_id, new Connection(context_id, roots.get(parent_context_id)));
}

export function proxy_on_vm_start(_root_context_id: u32, _vm_configuration_size: usize): u32 {
  return 1;
}

export function proxy_on_configure(root_context_id: u32, plugin_configuration_size: usize): u32 {
  if (!roots.has(root_context_id)) return 0;
  return roots.get(root_context_id).configure(plugin_configuration_size) ? 1 : 0;
}

export function proxy_on_tick(root_context_id: u32): void {
  if (roots.has(root_context_id)) roots.get(root_context_id).tick(connections);
}

export function proxy_on_new_connection(context_id: u32): u32 {
  if (connections.has(context_id)) connections.get(context_id).start();
  return Action.Continue;
}

export function proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: u32): u32 {
  if (!connections.has(context_id)) return Action.Continue;
  return connections.get(context_id).onData(data_size, end_of_stream != 0);
}

export function proxy_on_downstream_connection_close(context_id: u32, _peer_type: u32): void {
  if (connections.has(context_id)) connections.get(context_id).onClose();
}

export function proxy_on_upstream_data(_context_id: u32, _data_size: usize, _end_of_stream: u32): u32 {
  return Action.Continue;
}

export function proxy_on_upstream_connection_close(_context_id: u32, _peer_type: u32): void {}

export function proxy_on_done(_context_id: u32): u32 {
  return 1;
}

export function proxy_on_delete(context_id: u32): void {
  if (connections.has(context_id)) {
    const conn = connections.get(context_id);
    conn.root.pending.delete(context_id);
    connections.delete(context_id);
    return;
  }
  roots.delete(context_id);
}
