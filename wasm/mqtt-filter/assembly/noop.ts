// A network filter with the MQTT filter's exports that does nothing: Continue everywhere, no
// host calls, no allocation. For bench:filter only (static-noop), never shipped: it measures
// what Envoy itself spends per connection on a Wasm filter (context creation, the V8 calls),
// apart from what our filter does in them.
import './abort/abort';

export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_context_create(_context_id: u32, _parent_context_id: u32): void {}

export function proxy_on_vm_start(_root_context_id: u32, _vm_configuration_size: usize): u32 {
  return 1;
}

export function proxy_on_configure(_root_context_id: u32, _plugin_configuration_size: usize): u32 {
  return 1;
}

export function proxy_on_new_connection(_context_id: u32): u32 {
  return 0;
}

export function proxy_on_downstream_data(_context_id: u32, _data_size: usize, _end_of_stream: u32): u32 {
  return 0;
}

export function proxy_on_downstream_connection_close(_context_id: u32, _peer_type: u32): void {}

export function proxy_on_upstream_data(_context_id: u32, _data_size: usize, _end_of_stream: u32): u32 {
  return 0;
}

export function proxy_on_upstream_connection_close(_context_id: u32, _peer_type: u32): void {}

export function proxy_on_done(_context_id: u32): u32 {
  return 1;
}

export function proxy_on_delete(_context_id: u32): void {}
