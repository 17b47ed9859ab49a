{{/*
The Envoy bootstrap of deploy/envoy/bootstrap.yaml (edge) and
deploy/components/envoy-sidecar/bootstrap.yaml (sidecar), which differ only in limits and
in how the xDS Service is named. Called with a dict: xdsHost, xdsPort, maxConnections,
maxHeapBytes. Everything MQTT arrives from mqtt-xds over ADS; node.id and node.cluster
come from --service-node and --service-cluster.
*/}}
{{- define "mqtt-xds.envoyBootstrap" -}}
admin:
  # Loopback only: the admin API can stop Envoy (/quitquitquit), drain listeners and
  # dump the configuration. Reach it with `kubectl port-forward pod/<envoy> 9901`.
  # The kubelet cannot reach loopback, so readiness and metrics go through the "ops"
  # listener below, which forwards only GET /ready and GET /stats/prometheus.
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }

# An admin runtime layer, so that `POST /runtime_modify` works: the emergency switch for
# the connection-rate limit (docs/load-shedding.md). Admin is loopback-only.
layered_runtime:
  layers:
    - name: admin
      admin_layer: {}

overload_manager:
  refresh_interval: 0.25s
  resource_monitors:
    # MQTT clients hold connections for hours: a global cap keeps a reconnect storm
    # from exhausting file descriptors and memory (~16 KiB per idle proxied connection).
    - name: envoy.resource_monitors.global_downstream_max_connections
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig
        max_active_downstream_connections: {{ .maxConnections | int64 }}
    # Heap, against a budget below the container's memory limit: shrink the heap first,
    # then stop accepting, before the kernel's OOM killer drops every connection.
    - name: envoy.resource_monitors.fixed_heap
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
        max_heap_size_bytes: {{ .maxHeapBytes | int64 }}
  actions:
    - name: envoy.overload_actions.shrink_heap
      triggers:
        - name: envoy.resource_monitors.fixed_heap
          threshold: { value: 0.90 }
    - name: envoy.overload_actions.stop_accepting_connections
      triggers:
        - name: envoy.resource_monitors.fixed_heap
          threshold: { value: 0.95 }

# The MQTT Wasm filter's counters carry their tags as dotted parts
# (wasmcustom.mqtt_connect_total.tenant.acme.protocol_version.5); these make them Prometheus
# labels: mqtt_connect_total{mqtt_tenant="acme",mqtt_protocol_version="5"} (docs/mqtt-filter.md#metrics).
stats_config:
  stats_tags:
    - tag_name: mqtt_tenant
      regex: '^wasmcustom\.mqtt_\w+(\.tenant\.([a-z0-9-]+))'
    - tag_name: mqtt_protocol_version
      regex: '^wasmcustom\.mqtt_connect_total(?:\.tenant\.[a-z0-9-]+)?(\.protocol_version\.(\d+))$'
    - tag_name: mqtt_refusal_reason
      regex: '^wasmcustom\.mqtt_connect_refused_total(?:\.tenant\.[a-z0-9-]+)?(\.reason\.(\w+))$'
    - tag_name: mqtt_close_reason
      regex: '^wasmcustom\.mqtt_stream_closed_total(?:\.tenant\.[a-z0-9-]+)?(\.reason\.(\w+))$'
    - tag_name: mqtt_placement_result
      regex: '^wasmcustom\.mqtt_placement_total(?:\.tenant\.[a-z0-9-]+)?(\.result\.(\w+))$'

dynamic_resources:
  ads_config:
    # GRPC = state of the world: each response carries all resources of its type.
    api_type: GRPC
    transport_api_version: V3
    set_node_on_first_message_only: true
    grpc_services:
      - envoy_grpc: { cluster_name: xds_cluster }
  # Wait for the control plane without a deadline (the default is 15 s): until the first
  # clusters and listener arrive, /ready fails, so no client is sent to an Envoy that
  # has no MQTT listener yet.
  cds_config: { ads: {}, resource_api_version: V3, initial_fetch_timeout: 0s }
  lds_config: { ads: {}, resource_api_version: V3, initial_fetch_timeout: 0s }

# Envoy reports its connections per broker back to mqtt-xds over LRS, through the same
# xds_cluster (and so the same TLS) as ADS: docs/envoy-view.md. mqtt-xds asks for a report
# every envoyView.reportIntervalMs; without this block it gets none and works as before.
cluster_manager:
  load_stats_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services:
      - envoy_grpc: { cluster_name: xds_cluster }

static_resources:
  listeners:
    # Probe and metrics listener on the pod IP. Only two read-only admin paths are
    # forwarded to the loopback admin; everything else gets 404.
    - name: ops
      address:
        socket_address: { address: 0.0.0.0, port_value: 9902 }
      # Probes and scrapes must still work when the MQTT connection cap is reached.
      ignore_global_conn_limit: true
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ops
                codec_type: HTTP1
                normalize_path: true
                merge_slashes: true
                route_config:
                  name: ops
                  virtual_hosts:
                    - name: ops
                      domains: ["*"]
                      routes:
                        - match:
                            path: /ready
                            headers: [{ name: ":method", string_match: { exact: GET } }]
                          route: { cluster: envoy_admin, timeout: 2s }
                        - match:
                            path: /stats/prometheus
                            headers: [{ name: ":method", string_match: { exact: GET } }]
                          route: { cluster: envoy_admin, timeout: 5s }
                        - match: { prefix: / }
                          direct_response:
                            status: 404
                            body: { inline_string: "only GET /ready and GET /stats/prometheus are served here\n" }
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router

  clusters:
    - name: xds_cluster
      # The control plane's xDS Service, fully qualified, so sidecars in other
      # namespaces find it too.
      type: STRICT_DNS
      dns_lookup_family: V4_PREFERRED
      # Fail fast when the control plane is down so Envoy retries on its own schedule.
      connect_timeout: 1s
      load_assignment:
        cluster_name: xds_cluster
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: {{ .xdsHost }}, port_value: {{ .xdsPort | int }} }
      # gRPC needs HTTP/2 to the control plane.
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options:
              # Detects a dead control plane, or a conntrack entry dropped by a node
              # restart, on the otherwise idle ADS stream within seconds.
              connection_keepalive: { interval: 30s, timeout: 5s }
      upstream_connection_options:
        tcp_keepalive: { keepalive_time: 30, keepalive_interval: 5, keepalive_probes: 3 }

    - name: envoy_admin
      type: STATIC
      connect_timeout: 0.25s
      load_assignment:
        cluster_name: envoy_admin
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: 127.0.0.1, port_value: 9901 }
{{- end }}
