// Command minik8s is the all-in-one entry point:
//
//	minik8s up          run a whole cluster on this machine in one process
//	minik8s down        remove what up set up (containers, networks, rules)
//	minik8s certs init  make a cluster CA, certificates and kubeconfigs
//
// Each component also has its own binary (cmd/apiserver, cmd/scheduler,
// cmd/controller-manager, cmd/nodeagent, cmd/proxy) for multi-node setups.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"minik8s/pkg/certs"
	"minik8s/pkg/local"
	"minik8s/pkg/nodeagent"
)

const usage = `minik8s: a small, real Kubernetes.

Usage:
  minik8s up   [--data-dir DIR] [--listen HOST:PORT] [--preload-images DIR] ...
  minik8s down [--data-dir DIR] [--wipe]
  minik8s certs init --dir DIR [--apiserver-names a,b] [--nodes n1,n2] [--server https://HOST:6443] [--etcd-names a,b]

Run "minik8s up -h" or "minik8s down -h" for the flags.
`

func main() {
	// The containerd shim runs this binary as the containers' logging
	// driver (see pkg/nodeagent).
	if nodeagent.IsLogDriver(os.Args) {
		nodeagent.RunLogDriver(os.Args[2])
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	case "certs":
		err = certsCmd(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "minik8s: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func commonFlags(fs *flag.FlagSet, cfg *local.Config) {
	fs.StringVar(&cfg.DataDir, "data-dir", "/var/lib/minik8s", "where the cluster keeps etcd, containers, pods and its kubeconfig")
	fs.StringVar(&cfg.ContainerdAddress, "containerd-address", "", "a running containerd's socket (default: the system's if it answers, else a private one)")
}

func up(args []string) error {
	var cfg local.Config
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	commonFlags(fs, &cfg)
	fs.StringVar(&cfg.Listen, "listen", "0.0.0.0:6443", "the API server's address (HTTPS with the certificates in DATA-DIR/pki)")
	fs.StringVar(&cfg.NodeName, "node-name", "", "the node's name (default: the hostname)")
	fs.StringVar(&cfg.AgentListen, "agent-listen", "0.0.0.0:10250", "the node agent's API (kubectl logs)")
	fs.StringVar(&cfg.PreloadImages, "preload-images", "", "a directory of image tarballs to import (hack/testimages makes them)")
	insecure := fs.String("insecure-registry", "127.0.0.1:5000,localhost:5000", "registries reached over plain HTTP")
	logFile := fs.String("log-file", "", "where the components log (default DATA-DIR/minik8s.log; - for stderr)")
	fs.Parse(args)
	cfg.InsecureRegistry = strings.Split(*insecure, ",")
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	if *logFile == "" {
		*logFile = filepath.Join(cfg.DataDir, "minik8s.log")
	}
	if *logFile != "-" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		slog.SetDefault(slog.New(slog.NewTextHandler(f, nil)))
		fmt.Printf("minik8s: logs go to %s\n", *logFile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return local.Up(ctx, cfg)
}

func down(args []string) error {
	var cfg local.Config
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	commonFlags(fs, &cfg)
	wipe := fs.Bool("wipe", false, "also delete the data directory (every object of the cluster)")
	fs.Parse(args)
	return local.Down(context.Background(), cfg, *wipe)
}

func certsCmd(args []string) error {
	if len(args) == 0 || args[0] != "init" {
		return fmt.Errorf("usage: minik8s certs init --dir DIR [--apiserver-names a,b] [--nodes n1,n2] [--server URL] [--etcd-names a,b]")
	}
	fs := flag.NewFlagSet("certs init", flag.ExitOnError)
	dir := fs.String("dir", "/var/lib/minik8s/pki", "where to write the CA, the certificates and the kubeconfigs")
	names := fs.String("apiserver-names", "", "extra DNS names and IPs for the API server's certificate, comma-separated")
	nodes := fs.String("nodes", "", "node names to issue system:node:<name> credentials for, comma-separated")
	server := fs.String("server", "https://127.0.0.1:6443", "the API server URL written into the kubeconfigs")
	etcdNames := fs.String("etcd-names", "", "DNS names and IPs of external etcd members: also make an etcd CA, their certificate and the API server's etcd client certificate")
	fs.Parse(args[1:])
	opts := certs.Options{Server: *server, APIServerNames: splitList(*names), Nodes: splitList(*nodes), EtcdNames: splitList(*etcdNames)}
	if err := certs.Init(*dir, opts); err != nil {
		return err
	}
	fmt.Printf("certificates and kubeconfigs in %s (admin: %s)\n", *dir, filepath.Join(*dir, "admin.kubeconfig"))
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}
