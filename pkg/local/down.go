package local

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
)

// Down removes what Up set up in this network namespace and on this
// machine: the node's containers (in its containerd namespace), the pod
// network namespaces and mounts under the data directory, the pod bridge,
// and the iptables chains of the proxy and the CNI plugins. With wipe it
// also deletes the data directory (every object). Each step is attempted
// even if an earlier one failed; the errors are reported together.
func Down(ctx context.Context, cfg Config, wipe bool) error {
	cfg.Defaults()
	say := func(format string, args ...any) { fmt.Fprintf(cfg.Out, format+"\n", args...) }
	var errs []string
	note := func(step string, err error) {
		if err != nil {
			errs = append(errs, step+": "+err.Error())
		}
	}

	sock, stop, err := downContainerd(ctx, cfg)
	if err == nil {
		n, err := removeContainers(ctx, sock, "minik8s")
		note("removing containers", err)
		say("✓ removed %d containers", n)
		stop()
	} else if !os.IsNotExist(err) {
		note("containerd", err)
	}
	n, err := unmountUnder(cfg.DataDir)
	note("unmounting", err)
	say("✓ unmounted %d pod namespaces and volumes", n)
	if exec.Command("ip", "link", "show", "mk0").Run() == nil {
		note("deleting the pod bridge", exec.Command("ip", "link", "del", "mk0").Run())
		say("✓ deleted the pod bridge mk0")
	}
	chains, err := removeChains([]string{"KUBE-", "CNI-"})
	note("removing iptables chains", err)
	say("✓ removed %d iptables chains", chains)
	if wipe {
		note("wiping the data", os.RemoveAll(cfg.DataDir))
		say("✓ wiped %s", cfg.DataDir)
	} else {
		say("  kept the cluster's objects in %s (use --wipe to delete them)", cfg.DataDir)
	}
	if len(errs) > 0 {
		return fmt.Errorf("minik8s down: %s", strings.Join(errs, "; "))
	}
	return nil
}

// downContainerd finds the containerd Up used: the given one, the
// system's, or the private one, which it starts for the cleanup if it is
// not running. os.ErrNotExist: there is nothing to clean.
func downContainerd(ctx context.Context, cfg Config) (string, func(), error) {
	if cfg.ContainerdAddress != "" {
		return cfg.ContainerdAddress, func() {}, nil
	}
	dir := filepath.Join(cfg.DataDir, "containerd")
	if dialable(privateSocket(dir)) {
		return privateSocket(dir), func() {}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "config.toml")); err == nil {
		return startContainerd(ctx, dir)
	}
	if dialable(systemContainerd) {
		return systemContainerd, func() {}, nil
	}
	return "", nil, os.ErrNotExist
}

// removeContainers kills and deletes every container of a containerd
// namespace, with its snapshot.
func removeContainers(ctx context.Context, sock, ns string) (int, error) {
	cli, err := containerd.New(sock, containerd.WithTimeout(10*time.Second))
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	ctx = namespaces.WithNamespace(ctx, ns)
	cs, err := cli.Containers(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if t, err := c.Task(ctx, nil); err == nil {
			t.Kill(ctx, syscall.SIGKILL)
			if ch, err := t.Wait(ctx); err == nil {
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
				}
			}
			t.Delete(ctx, containerd.WithProcessKill)
		}
		if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
			return 0, err
		}
	}
	return len(cs), nil
}

// unmountUnder detaches every mount point below dir, deepest first.
func unmountUnder(dir string) (int, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == abs || strings.HasPrefix(fields[4], abs+"/")) {
			points = append(points, fields[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var firstErr error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", p, err)
		}
	}
	return len(points), firstErr
}

// removeChains deletes, in the nat and filter tables of this network
// namespace, the jumps to chains with the given prefixes and the chains.
func removeChains(prefixes []string) (int, error) {
	if _, err := exec.LookPath("iptables-save"); err != nil {
		return 0, nil
	}
	ours := func(name string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	removed := 0
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables-save", "-t", table).Output()
		if err != nil {
			return removed, err
		}
		var chains, jumps []string
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, ":"):
				if name := strings.Fields(line[1:])[0]; ours(name) {
					chains = append(chains, name)
				}
			case strings.HasPrefix(line, "-A "):
				args := splitRule(line)
				if len(args) > 1 && !ours(args[1]) && strings.Contains(line, " -j ") && jumpsToOurs(args, ours) {
					jumps = append(jumps, line)
				}
			}
		}
		for _, j := range jumps {
			args := splitRule(j)
			args[0] = "-D"
			exec.Command("iptables", append([]string{"-t", table}, args...)...).Run()
		}
		for _, c := range chains {
			exec.Command("iptables", "-t", table, "-F", c).Run()
		}
		for _, c := range chains {
			if exec.Command("iptables", "-t", table, "-X", c).Run() == nil {
				removed++
			}
		}
	}
	return removed, nil
}

func jumpsToOurs(args []string, ours func(string) bool) bool {
	for i := 0; i+1 < len(args); i++ {
		if (args[i] == "-j" || args[i] == "-g") && ours(args[i+1]) {
			return true
		}
	}
	return false
}

// splitRule splits an iptables-save rule into arguments, honouring the
// double quotes iptables puts around comments and the \" escapes in them.
func splitRule(line string) []string {
	var args []string
	var cur strings.Builder
	quoted, any := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && line[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			quoted, any = !quoted, true
		case c == ' ' && !quoted:
			if any {
				args = append(args, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteByte(c)
			any = true
		}
	}
	if any {
		args = append(args, cur.String())
	}
	return args
}
