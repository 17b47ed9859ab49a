// The host functions of proxy-wasm ABI 0.2.1 that the filter calls, as Envoy exports them from
// module "env". Every call returns a WasmResult (Status below). Pointers are offsets into this
// module's linear memory; the host writes results through *_ptr arguments, and memory it hands
// back (get_buffer_bytes, get_property, call_foreign_function) was allocated by our `malloc`
// export, so the caller frees it.

@external("env", "proxy_log")
export declare function proxy_log(level: u32, message_data: usize, message_size: usize): u32;

@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(return_level: usize): u32;

@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(
  buffer_type: u32,
  start: usize,
  max_size: usize,
  return_buffer_data: usize,
  return_buffer_size: usize,
): u32;

@external("env", "proxy_get_property")
export declare function proxy_get_property(
  path_data: usize,
  path_size: usize,
  return_value_data: usize,
  return_value_size: usize,
): u32;

// ABI 0.2.1 closes a stream by type (0.1.0's proxy_close_downstream is gone; Envoy 1.40 has no such import).
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(stream_type: u32): u32;

@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metric_type: u32, name_data: usize, name_size: usize, return_metric_id: usize): u32;

@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metric_id: u32, offset: i64): u32;

@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(period: u32): u32;

@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(return_time: usize): u32;

@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(context_id: u32): u32;

@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  function_name_data: usize,
  function_name_size: usize,
  parameters_data: usize,
  parameters_size: usize,
  return_results_data: usize,
  return_results_size: usize,
): u32;

/** WasmResult as the spec numbers it. */
export namespace Status {
  export const Ok: u32 = 0;
  export const NotFound: u32 = 1;
  export const BadArgument: u32 = 2;
  export const SerializationFailure: u32 = 3;
  export const ParseFailure: u32 = 4;
  export const InvalidMemoryAccess: u32 = 6;
  export const Empty: u32 = 7;
  export const CasMismatch: u32 = 8;
  export const InternalFailure: u32 = 10;
  export const Unimplemented: u32 = 12;
}

/** Stream types for proxy_close_stream. */
export namespace StreamType {
  export const HttpRequest: u32 = 0;
  export const HttpResponse: u32 = 1;
  export const Downstream: u32 = 2;
  export const Upstream: u32 = 3;
}

/** Buffer types for proxy_get_buffer_bytes. */
export namespace BufferType {
  export const DownstreamData: u32 = 2;
  export const UpstreamData: u32 = 3;
  export const VmConfiguration: u32 = 6;
  export const PluginConfiguration: u32 = 7;
}

/** Log levels (spdlog's numbering, which Envoy uses as is). */
export namespace LogLevel {
  export const Trace: u32 = 0;
  export const Debug: u32 = 1;
  export const Info: u32 = 2;
  export const Warn: u32 = 3;
  export const Error: u32 = 4;
  export const Critical: u32 = 5;
}

export namespace MetricType {
  export const Counter: u32 = 0;
  export const Gauge: u32 = 1;
  export const Histogram: u32 = 2;
}

/** What proxy_on_new_connection / proxy_on_*_data return. */
export namespace Action {
  export const Continue: u32 = 0;
  export const Pause: u32 = 1;
}
