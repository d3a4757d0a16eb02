package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	goiptables "github.com/coreos/go-iptables/iptables"
	"golang.org/x/sys/unix"
)

// iptables is the dataplane: the iptables-restore, iptables-save,
// iptables (through go-iptables) and conntrack programs, run in the
// network namespace at netns ("" for the proxy's own).
type iptables struct {
	netns string
}

// jumps are the rules in the built-in chains that lead to the proxy's
// own, as kube-proxy writes them. They are never rewritten by a restore.
var jumps = []struct{ chain, comment, target string }{
	{"PREROUTING", "kubernetes service portals", chainServices},
	{"OUTPUT", "kubernetes service portals", chainServices},
	{"POSTROUTING", "kubernetes postrouting rules", chainPostrouting},
}

func (t *iptables) restore(ctx context.Context, data []byte) error {
	_, err := t.run(ctx, data, "iptables-restore", "-w", "5", "--noflush")
	return err
}

func (t *iptables) chains(ctx context.Context) ([]string, error) {
	out, err := t.run(ctx, nil, "iptables-save", "-t", "nat")
	if err != nil {
		return nil, err
	}
	var chains []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, ":") {
			chains = append(chains, strings.Fields(line[1:])[0])
		}
	}
	return chains, sc.Err()
}

func (t *iptables) ensureJumps(ctx context.Context) error {
	return inNetns(t.netns, func() error {
		ipt, err := goiptables.New(goiptables.Timeout(5))
		if err != nil {
			return err
		}
		for _, j := range jumps {
			// The target chain must exist before a rule can jump to it.
			if ok, err := ipt.ChainExists("nat", j.target); err != nil {
				return err
			} else if !ok {
				if err := ipt.NewChain("nat", j.target); err != nil {
					return err
				}
			}
			if err := ipt.InsertUnique("nat", j.chain, 1, "-m", "comment", "--comment", j.comment, "-j", j.target); err != nil {
				return err
			}
		}
		return nil
	})
}

// clearFlows runs conntrack; without the program it does nothing (the
// flows then time out by themselves).
func (t *iptables) clearFlows(ctx context.Context, args []string) error {
	if _, err := exec.LookPath("conntrack"); err != nil {
		return nil
	}
	out, err := t.run(ctx, nil, "conntrack", args...)
	if err != nil && strings.Contains(string(out)+err.Error(), "0 flow entries") {
		return nil // nothing matched
	}
	return err
}

// run runs a program in t's network namespace with stdin, returning its
// output (stdout and stderr).
func (t *iptables) run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	var out []byte
	err := inNetns(t.netns, func() error {
		cmd := exec.CommandContext(ctx, name, args...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		out = b.Bytes()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, firstLines(out, 5))
		}
		return nil
	})
	return out, err
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "; ")
}

// inNetns runs fn on an OS thread switched into the network namespace at
// path (for example /run/netns/NAME), then switches the thread back.
// Programs fn starts inherit the thread's namespace, and so do sockets it
// opens. path "" runs fn as it is. If the thread cannot be switched back
// it is thrown away (its goroutine ends locked to it), so no other
// goroutine ever runs in the wrong namespace.
func inNetns(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("network namespace: %w", err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %s: %w", path, err)
			return
		}
		err = fn()
		if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr != nil {
			errc <- errors.Join(err, fmt.Errorf("leave network namespace %s: %w", path, serr))
			return // the thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}
