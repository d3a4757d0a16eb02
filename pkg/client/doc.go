// Package client is how every minik8s component talks to the API server:
// a REST client over the kinds in pkg/apis (get, list, create, update,
// patch, delete, watch), and on top of it the informer (list, then watch
// from the list's resourceVersion, relist on 410 Gone, an indexed local
// cache, handlers that enqueue keys) and, in workqueue, the rate-limited
// queue controllers drain.
//
// Errors from the server come back as *apierrors.StatusError, so callers
// test them with errors.Is(err, apierrors.ErrNotFound) and friends.
//
// Objects handed out by an informer's cache are shared: never modify them;
// copy first.
package client
