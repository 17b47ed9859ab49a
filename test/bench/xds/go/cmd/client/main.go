// Simulated Envoys for bench:xds: N ADS streams (SotW or Delta), one gRPC connection each,
// subscribing as Envoy does (Clusters, then the cluster's endpoints, then Listeners) and
// ACKing every response. On stdin, "mark" starts a round: once every stream has received
// a new ClusterLoadAssignment, one JSON line reports when the first, the median, the 99th
// percentile and the last one arrived (Unix milliseconds; the caller knows when it wrote).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	cds = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	eds = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	lds = "type.googleapis.com/envoy.config.listener.v3.Listener"
)

var edsNames = []string{"mqtt_brokers"}

type fleet struct {
	n         int
	connected atomic.Int64
	mu        sync.Mutex
	round     int
	got       []int
	isReady   []bool
	times     []int64
	failures  atomic.Int64
}

func (f *fleet) endpoints(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.round == 0 || f.got[id] == f.round {
		return
	}
	f.got[id] = f.round
	f.times = append(f.times, time.Now().UnixMicro())
	if len(f.times) == f.n {
		t := append([]int64(nil), f.times...)
		sort.Slice(t, func(i, j int) bool { return t[i] < t[j] })
		out, _ := json.Marshal(map[string]float64{
			"firstMs": float64(t[0]) / 1000, "p50Ms": float64(t[len(t)/2]) / 1000,
			"p99Ms": float64(t[(len(t)*99)/100]) / 1000, "allMs": float64(t[len(t)-1]) / 1000,
		})
		fmt.Printf("round %s\n", out)
	}
}

func (f *fleet) ready(id int) {
	f.mu.Lock()
	first := !f.isReady[id]
	f.isReady[id] = true
	f.mu.Unlock()
	if first && f.connected.Add(1) == int64(f.n) {
		fmt.Printf("connected %d %d\n", time.Now().UnixMilli(), f.failures.Load())
	}
}

func sotw(ctx context.Context, conn *grpc.ClientConn, id int, f *fleet) error {
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	node := &corev3.Node{Id: fmt.Sprintf("bench-envoy-%d", id), Cluster: "bench"}
	send := func(t string, names []string, version, nonce string) error {
		return s.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: t, ResourceNames: names, VersionInfo: version, ResponseNonce: nonce})
	}
	if err := send(cds, nil, "", ""); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		r, err := s.Recv()
		if err != nil {
			return err
		}
		var names []string
		if r.TypeUrl == eds {
			names = edsNames
		}
		if err := send(r.TypeUrl, names, r.VersionInfo, r.Nonce); err != nil {
			return err
		}
		if r.TypeUrl == eds && seen[eds] {
			f.endpoints(id)
		}
		if !seen[r.TypeUrl] {
			seen[r.TypeUrl] = true
			switch r.TypeUrl {
			case cds:
				err = send(eds, edsNames, "", "")
			case eds:
				err = send(lds, nil, "", "")
			}
			if err != nil {
				return err
			}
			if len(seen) == 3 {
				f.ready(id)
			}
		}
	}
}

func delta(ctx context.Context, conn *grpc.ClientConn, id int, f *fleet) error {
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	node := &corev3.Node{Id: fmt.Sprintf("bench-envoy-%d", id), Cluster: "bench"}
	if err := s.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: cds}); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		r, err := s.Recv()
		if err != nil {
			return err
		}
		if err := s.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: r.TypeUrl, ResponseNonce: r.Nonce}); err != nil {
			return err
		}
		if r.TypeUrl == eds && seen[eds] {
			f.endpoints(id)
		}
		if !seen[r.TypeUrl] {
			seen[r.TypeUrl] = true
			switch r.TypeUrl {
			case cds:
				err = s.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: eds, ResourceNamesSubscribe: edsNames})
			case eds:
				err = s.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: lds})
			}
			if err != nil {
				return err
			}
			if len(seen) == 3 {
				f.ready(id)
			}
		}
	}
}

func main() {
	target := flag.String("target", "127.0.0.1:18000", "xDS server")
	n := flag.Int("n", 1000, "simulated Envoys (one connection and one ADS stream each)")
	mode := flag.String("mode", "sotw", "sotw or delta")
	flag.Parse()
	f := &fleet{n: *n, got: make([]int, *n), isReady: make([]bool, *n)}
	ctx := context.Background()
	fmt.Printf("start %d\n", time.Now().UnixMilli())
	for i := 0; i < *n; i++ {
		go func(id int) {
			conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
			if err != nil {
				log.Fatal(err)
			}
			run := sotw
			if *mode == "delta" {
				run = delta
			}
			// As Envoy does: a stream that fails (a refused connect in a storm) is opened again
			// after a jittered backoff, so the storm time includes the retries.
			backoff := 250 * time.Millisecond
			for {
				err := run(ctx, conn, id, f)
				if n := f.failures.Add(1); n <= 5 {
					fmt.Fprintf(os.Stderr, "stream %d (retrying): %v\n", id, err)
				}
				time.Sleep(backoff/2 + time.Duration(rand.Int63n(int64(backoff))))
				if backoff < 4*time.Second {
					backoff *= 2
				}
			}
		}(i)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "mark" {
			f.mu.Lock()
			f.round++
			f.times = f.times[:0]
			f.mu.Unlock()
			fmt.Printf("marked %d\n", time.Now().UnixMilli())
		}
	}
}
