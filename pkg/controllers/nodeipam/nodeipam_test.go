package nodeipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// runController runs a controller with the given number of workers on c
// until the returned stop is called; stop returns once it has stopped.
func runController(c *client.Client, cfg Config, workers int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "node-ipam-controller", "test")
	ic := New(c, f, rec, cfg)
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { ic.Run(ctx, workers); close(done) }()
	return func() { cancel(); <-done; f.Wait() }
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 20s; got %s", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createNode(t *testing.T, c *client.Client, name string) {
	t.Helper()
	if err := c.Create(context.Background(), &core.Node{ObjectMeta: meta.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// podCIDRs returns each named node's podCIDR ("" if none).
func podCIDRs(t *testing.T, c *client.Client, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range names {
		var n core.Node
		if err := c.Get(context.Background(), "", name, &n); err != nil {
			t.Fatal(err)
		}
		if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
			if n.Spec.PodCIDR != "" {
				t.Fatalf("node %s: podCIDR %q, podCIDRs %v; want podCIDRs = [podCIDR]", name, n.Spec.PodCIDR, n.Spec.PodCIDRs)
			}
		}
		out[name] = n.Spec.PodCIDR
	}
	return out
}

// allAssigned waits until every named node has a CIDR and returns them.
func allAssigned(t *testing.T, c *client.Client, names ...string) map[string]string {
	t.Helper()
	var got map[string]string
	eventually(t, "pod CIDRs assigned", func() (bool, string) {
		got = podCIDRs(t, c, names...)
		for _, cidr := range got {
			if cidr == "" {
				return false, fmt.Sprint(got)
			}
		}
		return true, ""
	})
	return got
}

func distinct(t *testing.T, cidrs map[string]string) {
	t.Helper()
	owner := map[string]string{}
	for node, cidr := range cidrs {
		if other, ok := owner[cidr]; ok {
			t.Errorf("nodes %s and %s both have pod CIDR %s; want distinct CIDRs", other, node, cidr)
		}
		owner[cidr] = node
		p := netip.MustParsePrefix(cidr)
		if p.Bits() != 24 || !netip.MustParsePrefix("10.10.0.0/22").Contains(p.Addr()) {
			t.Errorf("node %s: pod CIDR %s; want a /24 of 10.10.0.0/22", node, cidr)
		}
	}
}

// TestCIDRsAreDistinctSurviveRestartFreeOnDeleteAndRunOut walks a
// four-subnet cluster CIDR through its life.
func TestCIDRsAreDistinctSurviveRestartFreeOnDeleteAndRunOut(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	cfg := Config{ClusterCIDR: "10.10.0.0/22", NodeMaskSize: 24}

	stop := runController(c, cfg, 2)
	for _, n := range []string{"n1", "n2", "n3"} {
		createNode(t, c, n)
	}
	first := allAssigned(t, c, "n1", "n2", "n3")
	distinct(t, first)

	// A new controller knows only what the nodes say: it must not hand
	// out their CIDRs again. A node created while no controller runs, and
	// named to come first in the initial list, is the first one a single
	// worker looks at: only a rebuilt allocation map keeps it from
	// getting n1's CIDR.
	stop()
	createNode(t, c, "a-new")
	stop = runController(c, cfg, 1)
	defer func() { stop() }()
	all := allAssigned(t, c, "n1", "n2", "n3", "a-new")
	distinct(t, all)
	for n, cidr := range first {
		if all[n] != cidr {
			t.Errorf("node %s: pod CIDR changed from %s to %s; want it kept for life", n, cidr, all[n])
		}
	}

	// The range is exhausted: the fifth node waits, with a warning.
	createNode(t, c, "n5")
	eventually(t, "CIDRNotAvailable event for n5", func() (bool, string) {
		evs, _, err := c.List(context.Background(), mustKind("events"), "default", client.ListOptions{})
		var seen []string
		for _, obj := range evs {
			ev := obj.(*core.Event)
			if ev.InvolvedObject.Name == "n5" && ev.Reason == "CIDRNotAvailable" && ev.Type == events.Warning &&
				strings.Contains(ev.Message, "10.10.0.0/22") {
				return true, ""
			}
			seen = append(seen, ev.Reason)
		}
		return false, fmt.Sprintf("events %v (err %v)", seen, err)
	})
	if got := podCIDRs(t, c, "n5")["n5"]; got != "" {
		t.Fatalf("n5 got %s from an exhausted range; want none", got)
	}

	// Deleting a node frees its CIDR for the waiting one.
	if err := c.Delete(context.Background(), mustKind("nodes"), "", "n2", nil); err != nil {
		t.Fatal(err)
	}
	got := allAssigned(t, c, "n5")
	if got["n5"] != first["n2"] {
		t.Errorf("n5 got %s; want the freed %s of deleted n2", got["n5"], first["n2"])
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{Config{}, ""},
		{Config{ClusterCIDR: "10.0.0.0/8", NodeMaskSize: 25}, "more than 2^16"},
		{Config{ClusterCIDR: "10.244.0.0/16", NodeMaskSize: 8}, "between"},
		{Config{ClusterCIDR: "fd00::/48"}, "only IPv4"},
		{Config{ClusterCIDR: "banana"}, "not a CIDR"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%+v) = %v; want an error containing %q", tt.cfg, err, tt.wantErr)
		}
	}
}

func TestCIDRSetHandsOutEachSubnetOnceAndReusesFreedOnesLast(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("10.244.0.0/22"), 24)
	if err != nil {
		t.Fatal(err)
	}
	if !s.occupy(netip.MustParsePrefix("10.244.1.0/24")) {
		t.Fatal("occupy(10.244.1.0/24) = false; want true")
	}
	if s.occupy(netip.MustParsePrefix("10.245.0.0/24")) {
		t.Error("occupy of a CIDR outside the range = true; want false")
	}
	var got []string
	for range 3 {
		p, err := s.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.String())
	}
	if want := "10.244.0.0/24 10.244.2.0/24 10.244.3.0/24"; strings.Join(got, " ") != want {
		t.Errorf("allocations %v; want %s (skipping the occupied one)", got, want)
	}
	if _, err := s.allocate(); !errors.Is(err, errExhausted) {
		t.Errorf("fifth allocation of four: err %v; want errExhausted", err)
	}
	s.release(netip.MustParsePrefix("10.244.2.0/24"))
	s.release(netip.MustParsePrefix("10.244.0.0/24"))
	if p, _ := s.allocate(); p.String() != "10.244.0.0/24" {
		t.Errorf("after freeing .2 then .0: got %s; want 10.244.0.0/24, the first free one after the last handed out", p)
	}
}

func mustKind(resource string) *apis.Kind {
	k, ok := apis.ByResource("", resource)
	if !ok {
		panic(resource)
	}
	return k
}
