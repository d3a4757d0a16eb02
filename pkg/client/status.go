package client

import (
	"context"
	"errors"
	"fmt"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// UpdateStatusOf writes a status that a controller computed from other
// objects (pods, nodes), not from the old status: set puts it on a copy of
// obj. On a conflict the cached obj is behind, typically because our own
// previous status write has not come back through the watch yet; since the
// status does not depend on the old one, the same status goes onto the
// fresh object (Kubernetes' controllers retry the same way). An object
// deleted, or replaced by another of the same name, meanwhile is left
// alone.
func UpdateStatusOf[T any, PT interface {
	*T
	meta.Object
}](ctx context.Context, c *Client, obj PT, set func(PT)) error {
	m := obj.GetObjectMeta()
	cp, err := meta.DeepCopy((*T)(obj))
	if err != nil {
		return err
	}
	set(PT(cp))
	err = c.UpdateStatus(ctx, PT(cp))
	if errors.Is(err, apierrors.ErrConflict) {
		fresh := PT(new(T))
		if err = c.Get(ctx, m.Namespace, m.Name, fresh); err == nil && fresh.GetObjectMeta().UID == m.UID {
			set(fresh)
			err = c.UpdateStatus(ctx, fresh)
		}
	}
	if err != nil && !errors.Is(err, apierrors.ErrNotFound) {
		return fmt.Errorf("updating the status of %s: %w", m.Name, err)
	}
	return nil
}
