package proxy

import (
	"context"
	"time"

	"minik8s/pkg/apis/core"
)

// Writer is the proxy's rule writer on its own, without watches: each
// Sync computes the rules for the given state and writes the chains that
// changed since the previous Sync, in the nat table of the network
// namespace at netns ("" for the caller's own). The benchmarks and tools
// use it; a Writer is used by one goroutine at a time.
type Writer struct {
	s *syncer
}

// NewWriter returns a Writer for the namespace at netns.
func NewWriter(netns string, cfg RulesConfig) *Writer {
	dp := &iptables{netns: netns}
	return &Writer{s: &syncer{dp: dp, flows: dp, cfg: cfg}}
}

// SyncStats says what one Sync did and how long it took.
type SyncStats struct {
	ChainsWritten, ChainsDeleted int
	// Compute is the time to compute the rules; Apply the time to write
	// them (iptables-restore, and the jump rules on a full sync).
	Compute, Apply time.Duration
}

// Sync converges the nat table on services and endpoints.
func (w *Writer) Sync(ctx context.Context, services []*core.Service, endpoints []*core.Endpoints) (SyncStats, error) {
	r, err := w.s.sync(ctx, services, endpoints)
	return SyncStats{ChainsWritten: r.chainsWritten, ChainsDeleted: r.chainsDeleted, Compute: r.compute, Apply: r.apply}, err
}

// Restore is the iptables-restore input writing all of c at once.
func (c Chains) Restore() []byte {
	data, _, _ := restoreInput(nil, c, nil)
	return data
}
