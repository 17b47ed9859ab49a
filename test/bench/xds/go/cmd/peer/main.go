// The xDS performance peer: a go-control-plane v0.14.0 ADS server (SotW and Delta) serving
// the resources an mqtt-xds control plane serves for the same brokers: one EDS Cluster,
// its ClusterLoadAssignment and one TCP proxy Listener. Every line "bump" on stdin sets a
// snapshot with new weights for all brokers; "rss" prints the process's RSS. Loopback only.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const clusterName = "mqtt_brokers"

// oneGroup puts every node in one snapshot: all simulated Envoys are alike.
type oneGroup struct{}

func (oneGroup) ID(*corev3.Node) string { return "fleet" }

func snapshot(version int, brokers int) *cachev3.Snapshot {
	endpoints := make([]*endpointv3.LbEndpoint, 0, brokers)
	for i := 0; i < brokers; i++ {
		endpoints = append(endpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(20000 + i)},
				}}},
				Hostname: fmt.Sprintf("broker-%d", i),
			}},
			HealthStatus:        corev3.HealthStatus_UNKNOWN,
			LoadBalancingWeight: wrapperspb.UInt32(uint32(100 + (i*7+version)%900)),
		})
	}
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: clusterName, Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: endpoints}}}
	cluster := &clusterv3.Cluster{
		Name:                 clusterName,
		ConnectTimeout:       durationpb.New(5 * time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
		LbPolicy: clusterv3.Cluster_LEAST_REQUEST,
	}
	proxy, err := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: "mqtt", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: clusterName}})
	if err != nil {
		log.Fatal(err)
	}
	listener := &listenerv3.Listener{
		Name: "mqtt",
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 1883},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: proxy},
		}}}},
	}
	snap, err := cachev3.NewSnapshot(fmt.Sprint(version), map[resource.Type][]types.Resource{
		resource.ClusterType:  {cluster},
		resource.EndpointType: {cla},
		resource.ListenerType: {listener},
	})
	if err != nil {
		log.Fatal(err)
	}
	return snap
}

func rssKB() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.Fields(line)[1]
		}
	}
	return "?"
}

func main() {
	port := flag.Int("port", 18001, "xDS port on 127.0.0.1")
	brokers := flag.Int("brokers", 100, "endpoints in the ClusterLoadAssignment")
	flag.Parse()
	ctx := context.Background()
	cache := cachev3.NewSnapshotCache(true, oneGroup{}, nil)
	version := 1
	if err := cache.SetSnapshot(ctx, "fleet", snapshot(version, *brokers)); err != nil {
		log.Fatal(err)
	}
	srv := serverv3.NewServer(ctx, cache, nil)
	g := grpc.NewServer(
		grpc.MaxConcurrentStreams(1<<20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(g, srv)
	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := g.Serve(lis); err != nil {
			log.Fatal(err)
		}
	}()
	fmt.Printf("ready %d\n", lis.Addr().(*net.TCPAddr).Port)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "bump":
			version++
			if err := cache.SetSnapshot(ctx, "fleet", snapshot(version, *brokers)); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("set %d\n", version)
		case "rss":
			fmt.Printf("rss %s\n", rssKB())
		}
	}
}
