package client

import (
	"context"
	"sync"
	"time"

	"minik8s/pkg/apis"
)

// Factory shares one informer per resource among all the controllers of a
// process, so N controllers watching pods cost one watch, not N.
type Factory struct {
	c      *Client
	resync time.Duration

	mu        sync.Mutex
	informers map[*apis.Kind]*Informer
	started   map[*apis.Kind]bool
	ctx       context.Context
	wg        sync.WaitGroup
}

// NewFactory returns a Factory whose informers watch all namespaces and
// resync every resync (0: never).
func NewFactory(c *Client, resync time.Duration) *Factory {
	return &Factory{c: c, resync: resync, informers: map[*apis.Kind]*Informer{}, started: map[*apis.Kind]bool{}}
}

// For returns the shared informer of kind k, creating it on first use.
// Informers requested after Start are started at once.
func (f *Factory) For(k *apis.Kind) *Informer {
	f.mu.Lock()
	defer f.mu.Unlock()
	inf, ok := f.informers[k]
	if !ok {
		inf = NewInformer(f.c.ListWatch(k, "", ListOptions{}), f.resync)
		f.informers[k] = inf
	}
	if f.ctx != nil && !f.started[k] {
		f.startLocked(k, inf)
	}
	return inf
}

// Start runs every informer requested so far until ctx is done.
func (f *Factory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
	for k, inf := range f.informers {
		if !f.started[k] {
			f.startLocked(k, inf)
		}
	}
}

func (f *Factory) startLocked(k *apis.Kind, inf *Informer) {
	f.started[k] = true
	f.wg.Add(1)
	go func() { defer f.wg.Done(); inf.Run(f.ctx) }()
}

// WaitForSync waits until every started informer has listed once; false if
// ctx ended first.
func (f *Factory) WaitForSync(ctx context.Context) bool {
	f.mu.Lock()
	infs := make([]*Informer, 0, len(f.informers))
	for _, inf := range f.informers {
		infs = append(infs, inf)
	}
	f.mu.Unlock()
	for _, inf := range infs {
		if !inf.WaitForSync(ctx) {
			return false
		}
	}
	return true
}

// Wait blocks until every informer has stopped (after ctx of Start ends).
func (f *Factory) Wait() { f.wg.Wait() }
