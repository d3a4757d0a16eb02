package client

import (
	"context"

	"minik8s/pkg/apis/meta"
)

// Event is one decoded watch event. For Type meta.Error, Object is a
// *meta.Status (code 410 means the requested history was compacted: relist).
// For meta.Bookmark, Object carries only metadata.resourceVersion.
type Event struct {
	Type   string
	Object meta.Object
}

// Watcher is a running watch. ResultChan is closed when the watch ends,
// whether the server closed it, the context was cancelled or Stop was
// called. Stop may be called more than once.
type Watcher interface {
	ResultChan() <-chan Event
	Stop()
}

// ListerWatcher is what an Informer needs from the API for one resource
// (and optionally one namespace and selectors): a consistent list with the
// revision it was read at, and a watch from a revision. (*Client).ListWatch
// returns one over HTTP.
type ListerWatcher interface {
	// List returns every matching object and the list's resourceVersion.
	List(ctx context.Context) (items []meta.Object, resourceVersion string, err error)
	// Watch streams changes after resourceVersion. An error satisfying
	// errors.Is(err, apierrors.ErrGone) means that revision is compacted.
	Watch(ctx context.Context, resourceVersion string) (Watcher, error)
}
