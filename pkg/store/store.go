// Package store is minik8s' storage layer: a small key-value interface
// shaped by the few transactions the API server needs (create if absent,
// compare-and-swap update, conditional delete, consistent paged list, watch
// from a revision), and its implementation over etcd v3.
//
// Values are opaque bytes (the API server stores each object's JSON).
// Every write returns the etcd revision it was committed at; the API server
// exposes that revision as the object's resourceVersion, so optimistic
// concurrency is etcd's own compare-and-swap on mod revisions.
//
// Errors are the apierrors categories, wrapped with the key: ErrNotFound,
// ErrAlreadyExists, ErrConflict (a stale revision), ErrGone (a compacted
// revision). Nothing in this package knows about HTTP or about kinds.
//
// Only pkg/apiserver uses this package.
package store

import (
	"context"
	"errors"
	"fmt"

	"minik8s/pkg/apis/apierrors"
)

// KV is one stored key with its value and revisions.
type KV struct {
	Key   string
	Value []byte
	// ModRevision is the revision of the last write to Key: the object's
	// resourceVersion.
	ModRevision int64
	// CreateRevision is the revision at which Key was created.
	CreateRevision int64
}

// ListOptions select a page of a prefix.
type ListOptions struct {
	// Revision reads the list as of that revision; 0 means the latest.
	// A compacted revision gives ErrGone.
	Revision int64
	// StartKey continues a paged list: keys >= StartKey are returned.
	StartKey string
	// Limit caps the number of keys returned; 0 means no limit.
	Limit int64
}

// ListResult is one page of a list.
type ListResult struct {
	KVs []KV
	// Revision is the revision the whole list was read at; pass it back in
	// ListOptions.Revision for the next page so all pages are consistent.
	Revision int64
	// More is true when keys beyond the page exist.
	More bool
}

// EventType says what a watch event means.
type EventType int

// Watch event types.
const (
	Added EventType = iota
	Modified
	Deleted
	// Bookmark carries only a Revision: every change up to it was sent.
	Bookmark
	// Error ends a watch; Err says why (ErrGone when the start revision was
	// compacted).
	Error
)

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	// KV is the key's new state; for Deleted, its last state before the
	// delete, with ModRevision set to the delete's revision.
	KV KV
	// PrevValue is the value before this change (nil for Added).
	PrevValue []byte
	// Revision is the revision of this event (or of a Bookmark).
	Revision int64
	Err      error
}

// Store is the storage the API server needs.
//
// Implementations must make Create, Update and Delete atomic with respect to
// their conditions, and must deliver watch events for a prefix exactly once
// and in revision order.
type Store interface {
	// Create stores value under key if key does not exist and returns the
	// new revision; ErrAlreadyExists otherwise.
	Create(ctx context.Context, key string, value []byte) (int64, error)
	// Get returns key's current value; ErrNotFound if absent.
	Get(ctx context.Context, key string) (KV, error)
	// List returns keys under prefix, in key order, at one revision.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Update replaces key's value if its ModRevision is still rev and
	// returns the new KV. If it is not, it returns ErrConflict together with
	// the current KV (so callers can retry without another read), or
	// ErrNotFound if key is gone.
	Update(ctx context.Context, key string, value []byte, rev int64) (KV, error)
	// Delete removes key if rev is 0 or its ModRevision is rev, and returns
	// its last state with ModRevision set to the delete's revision.
	// ErrConflict (with the current KV) or ErrNotFound otherwise.
	Delete(ctx context.Context, key string, rev int64) (KV, error)
	// Watch streams the changes under prefix after revision rev (rev 0: from
	// now). The channel is closed when ctx is done or after an Error event.
	Watch(ctx context.Context, prefix string, rev int64) (<-chan Event, error)
	// Revision returns the store's current revision.
	Revision(ctx context.Context) (int64, error)
	// Compact discards the history before rev; watches and lists from older
	// revisions get ErrGone afterwards.
	Compact(ctx context.Context, rev int64) error
}

// UpdateFunc computes a key's new value from its current state. Returning
// an error aborts the update with that error.
type UpdateFunc func(cur KV) ([]byte, error)

// GuaranteedUpdate is a server-side read-modify-write: it reads key, calls
// fn, and writes the result with compare-and-swap, calling fn again on the
// fresh value whenever another writer got there first. fn must be a pure
// function of its input because it may run several times.
func GuaranteedUpdate(ctx context.Context, s Store, key string, fn UpdateFunc) (KV, error) {
	cur, err := s.Get(ctx, key)
	if err != nil {
		return KV{}, err
	}
	for {
		val, err := fn(cur)
		if err != nil {
			return KV{}, err
		}
		next, err := s.Update(ctx, key, val, cur.ModRevision)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, apierrors.ErrConflict) {
			return KV{}, err
		}
		if err := ctx.Err(); err != nil {
			return KV{}, err
		}
		cur = next
	}
}

func notFound(key string) error { return fmt.Errorf("key %s: %w", key, apierrors.ErrNotFound) }
func conflict(key string) error { return fmt.Errorf("key %s: %w", key, apierrors.ErrConflict) }
func exists(key string) error   { return fmt.Errorf("key %s: %w", key, apierrors.ErrAlreadyExists) }
func gone(rev, compacted int64) error {
	return fmt.Errorf("revision %d is older than the oldest kept (%d): %w", rev, compacted, apierrors.ErrGone)
}
