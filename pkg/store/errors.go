package store

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"minik8s/pkg/apis/apierrors"
)

var errUnavailable = apierrors.ErrUnavailable

// mapErr turns etcd client errors into the store's categories; anything
// unknown passes through (the API server answers it with a 500).
func mapErr(err error) error { return mapErrRev(err, 0) }

func mapErrRev(err error, rev int64) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("revision %d has been compacted: %w", rev, apierrors.ErrGone)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("revision %d is in the future: %w", rev, apierrors.ErrTimeout)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, rpctypes.ErrNoLeader), errors.Is(err, rpctypes.ErrTimeout),
		errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail), errors.Is(err, rpctypes.ErrTimeoutDueToConnectionLost):
		return fmt.Errorf("etcd: %v: %w", err, apierrors.ErrUnavailable)
	}
	return err
}
