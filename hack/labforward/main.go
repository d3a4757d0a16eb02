// Command labforward is the local lab's way in from the machine: a
// user-space TCP forwarder that accepts on a loopback address of the
// machine's own network namespace and connects, for each client, to an
// address inside another network namespace (the lab's control plane), so
// that kubectl on the host reaches the lab's API server while nothing in
// the host's network changes: no route, no rule, no interface.
//
//	labforward --listen 127.0.0.1:16443 --netns /run/netns/mk-lab-7-cp --to 127.0.0.1:6443
//	labforward --free-port     # prints a loopback port nobody listens on now
//
// It refuses to listen on anything but a loopback address. It runs until
// SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:16443", "loopback address to accept on (host network namespace)")
	netns := flag.String("netns", "", "network namespace (a path such as /run/netns/NAME) to connect from")
	to := flag.String("to", "127.0.0.1:6443", "address to connect to, inside --netns")
	freePort := flag.Bool("free-port", false, "print a free loopback TCP port and exit")
	flag.Parse()
	if *freePort {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "labforward:", err)
			os.Exit(1)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		return
	}
	if err := run(*listen, *netns, *to); err != nil {
		fmt.Fprintln(os.Stderr, "labforward:", err)
		os.Exit(1)
	}
}

func run(listen, netns, to string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %s: only a loopback address is allowed (the forwarder must not open the host to its network)", listen)
	}
	if netns == "" {
		return errors.New("--netns is required")
	}
	d, err := newDialer(netns)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); l.Close() }()
	slog.Info("forwarding", "listen", l.Addr().String(), "netns", netns, "to", to)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() { forward(ctx, c, d, to) })
	}
}

// forward copies between the client c and a new connection to addr until
// either side closes, or ctx ends.
func forward(ctx context.Context, c net.Conn, d *dialer, addr string) {
	defer c.Close()
	up, err := d.dial(addr)
	if err != nil {
		slog.Warn("connecting", "to", addr, "err", err)
		return
	}
	defer up.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); up.Close() })
	defer stop()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite() // pass the half-close on
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// dialer makes TCP connections from inside a network namespace: one
// goroutine locked to an OS thread that entered the namespace creates
// every socket (a socket belongs to the namespace of the thread that
// created it). The thread never leaves the namespace and is never handed
// back to the Go scheduler.
type dialer struct {
	reqs chan dialReq
}

type dialReq struct {
	addr string
	res  chan dialRes
}

type dialRes struct {
	c   net.Conn
	err error
}

func newDialer(path string) (*dialer, error) {
	d := &dialer{reqs: make(chan dialReq)}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		f, err := os.Open(path)
		if err != nil {
			ready <- err
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			ready <- fmt.Errorf("entering %s: %w", path, err)
			return
		}
		ready <- nil
		for r := range d.reqs {
			c, err := net.DialTimeout("tcp", r.addr, 5*time.Second)
			r.res <- dialRes{c, err}
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return d, nil
}

func (d *dialer) dial(addr string) (net.Conn, error) {
	res := make(chan dialRes, 1)
	d.reqs <- dialReq{addr, res}
	r := <-res
	return r.c, r.err
}
