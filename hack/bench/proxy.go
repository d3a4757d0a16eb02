package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/proxy"
)

// proxySizes are the numbers of Services (3 endpoints each) measured.
// 10,000 is left out by default: a bare restore alone takes minutes there
// (set MINIK8S_BENCH_PROXY_10K=1 to include it).
var proxySizes = []int{1000, 5000}

// benchProxy measures the proxy's rule writer in scratch network
// namespaces (created and deleted here; the machine's own nat table is
// never touched): a bare `iptables-restore --noflush` of the full rules
// text, the writer's first full sync of the same state (compute + apply),
// and then one endpoint change, which the writer applies by rewriting
// only the chains that changed.
func benchProxy(time.Duration) string {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if os.Geteuid() != 0 {
		log.Fatal("the proxy benchmark needs root (network namespaces)")
	}
	sizes := proxySizes
	if os.Getenv("MINIK8S_BENCH_PROXY_10K") != "" {
		sizes = append(sizes, 10000)
	}
	var b strings.Builder
	b.WriteString("## Proxy: iptables rules (nf_tables backend)\n\n")
	b.WriteString("Services with 3 endpoints each (kube-proxy's layout: per Service one KUBE-SVC chain and three KUBE-SEP chains).\n")
	b.WriteString("Each figure in its own fresh network namespace. \"bare restore\": `iptables-restore --noflush` of the full rules text;\n")
	b.WriteString("\"first sync\": the proxy's writer computing and applying the same state from nothing (plus the jump rules);\n")
	b.WriteString("\"endpoint change\": one endpoint of one Service replaced, computed and applied (only the changed chains are written).\n\n")
	b.WriteString("| services | rules text | bare restore | first sync (compute + apply) | endpoint change (compute + apply, chains written/deleted) |\n")
	b.WriteString("|---:|---:|---:|---:|---:|\n")
	ctx := context.Background()
	var perRule time.Duration
	for _, n := range sizes {
		svcs, eps := proxyState(n)
		text := proxy.Rules(svcs, eps, proxy.RulesConfig{}).Restore()

		ns := scratchNetns()
		start := time.Now()
		cmd := exec.Command("ip", "netns", "exec", ns, "iptables-restore", "-w", "--noflush")
		cmd.Stdin = bytes.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("bare restore: %v: %s", err, out)
		}
		bare := time.Since(start)
		deleteNetns(ns)
		if n == 1000 {
			perRule = oneCommandPerRule(text)
		}

		ns = scratchNetns()
		w := proxy.NewWriter("/run/netns/"+ns, proxy.RulesConfig{})
		first, err := w.Sync(ctx, svcs, eps)
		if err != nil {
			log.Fatal(err)
		}
		eps[n/2].Subsets[0].Addresses[1].IP = "10.250.0.1" // one endpoint replaced
		change, err := w.Sync(ctx, svcs, eps)
		if err != nil {
			log.Fatal(err)
		}
		deleteNetns(ns)
		fmt.Fprintf(&b, "| %d | %d KiB | %s | %s (%s + %s) | %s (%s + %s, %d/%d) |\n", n, len(text)/1024,
			round(bare), round(first.Compute+first.Apply), round(first.Compute), round(first.Apply),
			round(change.Compute+change.Apply), round(change.Compute), round(change.Apply), change.ChainsWritten, change.ChainsDeleted)
		log.Printf("proxy bench: %d services done", n)
	}
	b.WriteString("\nTargets (issue 10): first sync of 1,000 services within 1.5x of the bare restore; an endpoint change in ≤ 1 s at 1,000 and 5,000 services.\n")
	if perRule > 0 {
		fmt.Fprintf(&b, "Adding the same rules for 1,000 services one `iptables` command at a time (one shell in the namespace running each command): %s.\n", round(perRule))
	}
	return b.String()
}

// oneCommandPerRule adds the rules of a restore text the slow way, one
// iptables command per chain and rule, in a fresh namespace, and returns
// how long that took: the baseline that makes a restore worth its while.
func oneCommandPerRule(text []byte) time.Duration {
	var script strings.Builder
	for _, line := range strings.Split(string(text), "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			name := strings.Fields(line[1:])[0]
			if name != "PREROUTING" && name != "INPUT" && name != "OUTPUT" && name != "POSTROUTING" {
				fmt.Fprintf(&script, "iptables -w -t nat -N %s\n", name)
			}
		case strings.HasPrefix(line, "-A "):
			fmt.Fprintf(&script, "iptables -w -t nat %s\n", line)
		}
	}
	ns := scratchNetns()
	defer deleteNetns(ns)
	start := time.Now()
	cmd := exec.Command("ip", "netns", "exec", ns, "sh", "-e")
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("one command per rule: %v: %s", err, out)
	}
	return time.Since(start)
}

// proxyState is n ClusterIP Services with 3 ready endpoints each.
func proxyState(n int) ([]*core.Service, []*core.Endpoints) {
	var svcs []*core.Service
	var eps []*core.Endpoints
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		ip := fmt.Sprintf("10.96.%d.%d", i/250, i%250+2)
		svcs = append(svcs, &core.Service{ObjectMeta: meta.ObjectMeta{Namespace: "bench", Name: name},
			Spec: core.ServiceSpec{Type: core.ServiceTypeClusterIP, ClusterIP: ip,
				Ports: []core.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: intstr.FromInt(8080)}}}})
		sub := core.EndpointSubset{Ports: []core.EndpointPort{{Name: "http", Protocol: "TCP", Port: 8080}}}
		for j := range 3 {
			sub.Addresses = append(sub.Addresses, core.EndpointAddress{IP: fmt.Sprintf("10.%d.%d.%d", 128+j, i/250, i%250+2)})
		}
		eps = append(eps, &core.Endpoints{ObjectMeta: meta.ObjectMeta{Namespace: "bench", Name: name}, Subsets: []core.EndpointSubset{sub}})
	}
	return svcs, eps
}

func scratchNetns() string {
	b := make([]byte, 4)
	rand.Read(b)
	name := "mk-proxybench-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		log.Fatalf("ip netns add: %v: %s", err, out)
	}
	return name
}

func deleteNetns(name string) {
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		log.Printf("ip netns del %s: %v: %s", name, err, out)
	}
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
}
