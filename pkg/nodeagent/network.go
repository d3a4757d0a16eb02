package nodeagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"golang.org/x/sys/unix"
)

// cniNetwork gives each pod a network namespace wired up by CNI: loopback,
// then the pod network (by default Debian's bridge plugin with host-local
// IPAM on the node's podCIDR). The netns files live under
// <root>/netns/<pod uid>; CNI's cache and IPAM state under <root>/cni, so
// nothing is shared with other agents on the machine.
type cniNetwork struct {
	cni      *libcni.CNIConfig
	pods, lo *libcni.NetworkConfigList
	root     string
	nodeNS   string // run CNI in this netns ("" = the agent's own)
}

// bridgeConflist is the default pod network: bridge mk0 as the pods'
// gateway, hairpin so a pod can reach itself through a service, IPs from
// host-local. With ipMasq the plugin masquerades traffic leaving the
// podCIDR; without, the agent masquerades only what leaves the cluster
// CIDR (routes.go), so pods on other nodes see the real source.
func bridgeConflist(podCIDR, ipamDir string, ipMasq bool) []byte {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "minik8s",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": "mk0", "isGateway": true, "ipMasq": ipMasq, "hairpinMode": true,
				"ipam": map[string]any{
					"type": "host-local", "dataDir": ipamDir,
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, _ := json.Marshal(conf)
	return b
}

func newCNINetwork(binDir, confFile, podCIDR, root, nodeNS string, ipMasq bool) (*cniNetwork, error) {
	var conf []byte
	if confFile != "" {
		b, err := os.ReadFile(confFile)
		if err != nil {
			return nil, err
		}
		conf = b
	} else {
		if podCIDR == "" {
			return nil, errors.New("the node has no podCIDR: give --pod-cidr or let the node IPAM controller assign spec.podCIDR")
		}
		conf = bridgeConflist(podCIDR, filepath.Join(root, "cni", "ipam"), ipMasq)
	}
	pods, err := libcni.ConfListFromBytes(conf)
	if err != nil {
		return nil, fmt.Errorf("pod network config: %w", err)
	}
	lo, err := libcni.ConfListFromBytes([]byte(`{"cniVersion":"1.0.0","name":"lo","plugins":[{"type":"loopback"}]}`))
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"netns", "cni/cache", "cni/ipam"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	return &cniNetwork{
		cni:  libcni.NewCNIConfigWithCacheDir([]string{binDir}, filepath.Join(root, "cni", "cache"), nil),
		pods: pods, lo: lo, root: root, nodeNS: nodeNS,
	}, nil
}

func (n *cniNetwork) netnsPath(podUID string) string { return filepath.Join(n.root, "netns", podUID) }

// Setup makes sure the pod's network namespace exists and is attached,
// and returns the pod's IP. It is idempotent: a pod already set up (also
// by an earlier run of the agent) gets its cached address back.
func (n *cniNetwork) Setup(ctx context.Context, podUID, ns, name string) (string, error) {
	path := n.netnsPath(podUID)
	rt := &libcni.RuntimeConf{ContainerID: podUID, NetNS: path, IfName: "eth0",
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", ns}, {"K8S_POD_NAME", name}, {"K8S_POD_UID", podUID}}}
	if isNamespace(path) {
		if res, err := n.cni.GetNetworkListCachedResult(n.pods, rt); err == nil && res != nil {
			if ip, err := resultIP(res); err == nil {
				return ip, nil
			}
		}
	} else if err := pinNamespace(path, unix.CLONE_NEWNET, nil); err != nil {
		return "", fmt.Errorf("creating network namespace: %w", err)
	}
	var ip string
	err := inNetns(n.nodeNS, func() error {
		lort := &libcni.RuntimeConf{ContainerID: podUID, NetNS: path, IfName: "lo"}
		if _, err := n.cni.AddNetworkList(ctx, n.lo, lort); err != nil {
			return fmt.Errorf("loopback: %w", err)
		}
		res, err := n.cni.AddNetworkList(ctx, n.pods, rt)
		if err != nil {
			return fmt.Errorf("pod network: %w", err)
		}
		ip, err = resultIP(res)
		return err
	})
	return ip, err
}

// Teardown detaches the pod from the network (releasing its IP) and
// deletes its network namespace. Tearing down a pod that has no network is
// not an error.
func (n *cniNetwork) Teardown(ctx context.Context, podUID string) error {
	path := n.netnsPath(podUID)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	nsArg := path
	if !isNamespace(path) {
		nsArg = "" // plugins release IPAM state without a namespace
	}
	err := inNetns(n.nodeNS, func() error {
		rt := &libcni.RuntimeConf{ContainerID: podUID, NetNS: nsArg, IfName: "eth0"}
		return n.cni.DelNetworkList(ctx, n.pods, rt)
	})
	if err != nil {
		return fmt.Errorf("CNI DEL for pod %s: %w", podUID, err)
	}
	unix.Unmount(path, unix.MNT_DETACH)
	return os.Remove(path)
}

func resultIP(res types.Result) (string, error) {
	cur, err := types100.NewResultFromResult(res)
	if err != nil {
		return "", err
	}
	for _, ip := range cur.IPs {
		if ip.Address.IP.To4() != nil {
			return ip.Address.IP.String(), nil
		}
	}
	return "", errors.New("CNI result has no IPv4 address")
}

// inNetns runs fn on a thread in the network namespace at path (fn's
// sockets and child processes live there); "" runs fn as is. The thread is
// discarded afterwards rather than switched back.
func inNetns(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// dialer dials from the node's network namespace (probes to pod IPs).
func dialer(nodeNS string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNetns(nodeNS, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// listen opens the agent's API socket. With a node netns the socket is
// made there (a socket stays in the namespace it was created in), so the
// API server reaches the agent at the node's address; a loopback address
// stays in the agent's own namespace, where local clients (and the
// single-machine tests) expect it.
func listen(nodeNS, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		nodeNS = ""
	}
	var ln net.Listener
	err = inNetns(nodeNS, func() error {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}
