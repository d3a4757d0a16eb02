package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Etcd is the Store over an etcd v3 client. It works the same against the
// embedded etcd (through an in-process client) and an external cluster.
type Etcd struct {
	cli *clientv3.Client
}

// NewEtcd returns a Store that uses cli. The caller owns cli and closes it
// after the last use of the store.
func NewEtcd(cli *clientv3.Client) *Etcd { return &Etcd{cli: cli} }

// Client returns the underlying etcd client (for tests and tools).
func (s *Etcd) Client() *clientv3.Client { return s.cli }

func toKV(kv *mvccpb.KeyValue) KV {
	return KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision}
}

// Create is Txn(If CreateRevision(key) == 0, Then Put).
func (s *Etcd) Create(ctx context.Context, key string, value []byte) (int64, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, mapErr(err)
	}
	if !resp.Succeeded {
		return 0, exists(key)
	}
	return resp.Header.Revision, nil
}

// Get reads key at the latest revision (a linearizable read).
func (s *Etcd) Get(ctx context.Context, key string) (KV, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return KV{}, mapErr(err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, notFound(key)
	}
	return toKV(resp.Kvs[0]), nil
}

// List reads one page of prefix at one revision.
func (s *Etcd) List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error) {
	start := prefix
	if opts.StartKey != "" {
		start = opts.StartKey
	}
	ops := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	resp, err := s.cli.Get(ctx, start, ops...)
	if err != nil {
		return ListResult{}, mapErrRev(err, opts.Revision)
	}
	res := ListResult{Revision: resp.Header.Revision, More: resp.More, KVs: make([]KV, len(resp.Kvs))}
	if opts.Revision > 0 {
		res.Revision = opts.Revision
	}
	for i, kv := range resp.Kvs {
		res.KVs[i] = toKV(kv)
	}
	return res, nil
}

// Update is Txn(If ModRevision(key) == rev, Then Put, Else Get).
func (s *Etcd) Update(ctx context.Context, key string, value []byte, rev int64) (KV, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(value))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return KV{}, mapErr(err)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return KV{}, notFound(key)
		}
		return toKV(kvs[0]), conflict(key)
	}
	return KV{Key: key, Value: value, ModRevision: resp.Header.Revision, CreateRevision: 0}, nil
}

// Delete is Txn(If ModRevision(key) == rev, Then Delete(prevKV), Else Get);
// with rev 0 the condition is only that the key exists.
func (s *Etcd) Delete(ctx context.Context, key string, rev int64) (KV, error) {
	cmp := clientv3.Compare(clientv3.ModRevision(key), "=", rev)
	if rev == 0 {
		cmp = clientv3.Compare(clientv3.CreateRevision(key), ">", 0)
	}
	resp, err := s.cli.Txn(ctx).
		If(cmp).
		Then(clientv3.OpDelete(key, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return KV{}, mapErr(err)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return KV{}, notFound(key)
		}
		return toKV(kvs[0]), conflict(key)
	}
	prev := resp.Responses[0].GetResponseDeleteRange().PrevKvs
	if len(prev) == 0 {
		return KV{}, notFound(key) // deleted by someone else between compare and delete: cannot happen in one Txn
	}
	kv := toKV(prev[0])
	kv.ModRevision = resp.Header.Revision
	return kv, nil
}

// Revision returns the current revision of the etcd cluster.
func (s *Etcd) Revision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, "/", clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if err != nil {
		return 0, mapErr(err)
	}
	return resp.Header.Revision, nil
}

// Compact discards history before rev.
func (s *Etcd) Compact(ctx context.Context, rev int64) error {
	_, err := s.cli.Compact(ctx, rev)
	if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return mapErr(err)
	}
	return nil
}

// Watch turns etcd watch responses into Events. Progress notifications
// (requested periodically by RunBookmarks, or sent by etcd itself) become
// Bookmarks.
func (s *Etcd) Watch(ctx context.Context, prefix string, rev int64) (<-chan Event, error) {
	ctx, cancel := context.WithCancel(ctx)
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithProgressNotify()}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev+1))
	}
	// RequireLeader makes the watch fail instead of hanging when this
	// member is partitioned from the cluster's leader.
	wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, opts...)
	out := make(chan Event, 100)
	go func() {
		defer close(out)
		defer cancel()
		send := func(ev Event) bool {
			select {
			case out <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for resp := range wch {
			if resp.CompactRevision != 0 {
				send(Event{Type: Error, Err: gone(rev, resp.CompactRevision)})
				return
			}
			if err := resp.Err(); err != nil {
				send(Event{Type: Error, Err: mapErr(err)})
				return
			}
			if resp.IsProgressNotify() {
				if !send(Event{Type: Bookmark, Revision: resp.Header.Revision}) {
					return
				}
				continue
			}
			for _, e := range resp.Events {
				if !send(convert(e)) {
					return
				}
			}
		}
		if ctx.Err() == nil {
			// The etcd client closed the channel without an error
			// (client closed): tell the consumer the watch ended.
			send(Event{Type: Error, Err: fmt.Errorf("watch on %s closed: %w", prefix, errUnavailable)})
		}
	}()
	return out, nil
}

func convert(e *clientv3.Event) Event {
	ev := Event{KV: toKV(e.Kv), Revision: e.Kv.ModRevision}
	if e.PrevKv != nil {
		ev.PrevValue = e.PrevKv.Value
	}
	switch {
	case e.Type == clientv3.EventTypeDelete:
		ev.Type = Deleted
		if e.PrevKv != nil {
			ev.KV = toKV(e.PrevKv)
		}
		ev.KV.ModRevision = e.Kv.ModRevision
	case e.IsCreate():
		ev.Type = Added
	default:
		ev.Type = Modified
	}
	return ev
}

// RunBookmarks asks etcd for a progress notification on every watch every
// interval, so idle watches still learn how far the store has moved (and
// resume from there instead of from a revision that gets compacted). It
// returns when ctx is done.
func (s *Etcd) RunBookmarks(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Same context metadata as Watch uses, so the request goes to
			// the gRPC stream that carries the watches.
			if err := s.cli.RequestProgress(clientv3.WithRequireLeader(ctx)); err != nil && ctx.Err() == nil {
				slog.Debug("watch progress request failed", "err", err)
			}
		}
	}
}

// RunCompactor compacts history the way Kubernetes does: every interval it
// compacts up to the revision it saw at the previous tick, so at least one
// interval of history is always kept for watches to resume from. It returns
// when ctx is done.
func (s *Etcd) RunCompactor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if last > 0 {
			if err := s.Compact(ctx, last); err != nil && ctx.Err() == nil {
				slog.Warn("compaction failed", "revision", last, "err", err)
			}
		}
		rev, err := s.Revision(ctx)
		if err == nil {
			last = rev
		}
	}
}
