// Package leaderelection lets one of several replicas of a component act
// at a time, through a coordination.k8s.io/v1 Lease and the API server's
// compare-and-swap on resourceVersion (the same shape as client-go's).
//
// The holder renews the Lease every RetryPeriod. Others watch it and take
// it over only when its renewTime has not changed for LeaseDuration of
// their own clock: they compare observations, never clocks across
// machines. A holder that cannot renew for RenewDeadline (shorter than
// LeaseDuration) stops acting before anyone could take over, so two
// leaders never act at once as long as clocks run at similar rates.
package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

// Config says which Lease to hold and how.
type Config struct {
	Client    *client.Client
	Namespace string // usually kube-system
	Name      string // the Lease, e.g. "minik8s-scheduler"
	// Identity names this replica (e.g. hostname_pid); must be unique.
	Identity string
	// LeaseDuration is how long others wait after the last renewal they
	// observed before taking over (default 15s).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps acting without a
	// successful renewal (default 10s; must be < LeaseDuration).
	RenewDeadline time.Duration
	// RetryPeriod is how often to try to acquire or renew (default 2s).
	RetryPeriod time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() error {
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = 10 * time.Second
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RenewDeadline >= c.LeaseDuration {
		return fmt.Errorf("leader election: renew deadline %v must be shorter than the lease duration %v", c.RenewDeadline, c.LeaseDuration)
	}
	if c.Client == nil || c.Name == "" || c.Identity == "" {
		return errors.New("leader election: client, lease name and identity are required")
	}
	if c.Namespace == "" {
		c.Namespace = "kube-system"
	}
	return nil
}

// elector holds what one replica has observed of the Lease.
type elector struct {
	cfg Config
	// observedRenew and observedAt: the last renewTime seen and when (by
	// our clock) we saw it change.
	observedRenew string
	observedAt    time.Time
}

// Run campaigns for the Lease until ctx is done. Whenever this replica
// becomes leader it calls lead with a context that is cancelled as soon as
// leadership is lost (or ctx ends), and waits for lead to return before
// campaigning again. On exit it releases the Lease so a standby can take
// over at once.
func Run(ctx context.Context, cfg Config, lead func(ctx context.Context)) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	e := &elector{cfg: cfg}
	for {
		if !e.acquire(ctx) {
			return nil
		}
		slog.Info("became leader", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
		leadCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); lead(leadCtx) }()
		e.renew(leadCtx)
		stop()
		<-done
		if ctx.Err() != nil {
			e.release()
			return nil
		}
		slog.Warn("lost leadership", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
	}
}

// acquire retries until this replica holds the Lease; false if ctx ended.
func (e *elector) acquire(ctx context.Context) bool {
	for {
		if ok, err := e.tryAcquireOrRenew(ctx); ok {
			return true
		} else if err != nil {
			slog.Debug("leader election attempt failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(e.cfg.RetryPeriod):
		}
	}
}

// renew keeps renewing until a renewal has failed for RenewDeadline or
// ctx ends (lead may also end early, which cancels ctx).
func (e *elector) renew(ctx context.Context) {
	last := e.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.cfg.RetryPeriod):
		}
		rctx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
		ok, err := e.tryAcquireOrRenew(rctx)
		cancel()
		if ok {
			last = e.cfg.Now()
			continue
		}
		if err != nil {
			slog.Info("lease renewal failed", "err", err)
		}
		if e.cfg.Now().Sub(last) >= e.cfg.RenewDeadline || err == nil {
			// err == nil and not ok: someone else holds the Lease now.
			return
		}
	}
}

// tryAcquireOrRenew makes one compare-and-swap attempt on the Lease.
func (e *elector) tryAcquireOrRenew(ctx context.Context) (bool, error) {
	now := e.cfg.Now()
	mt := meta.MicroTime{Time: now.UTC()}
	secs := int32(e.cfg.LeaseDuration / time.Second)
	var lease coordination.Lease
	err := e.cfg.Client.Get(ctx, e.cfg.Namespace, e.cfg.Name, &lease)
	if errors.Is(err, apierrors.ErrNotFound) {
		zero := int32(0)
		lease = coordination.Lease{
			ObjectMeta: meta.ObjectMeta{Name: e.cfg.Name, Namespace: e.cfg.Namespace},
			Spec: coordination.LeaseSpec{HolderIdentity: &e.cfg.Identity, LeaseDurationSeconds: &secs,
				AcquireTime: &mt, RenewTime: &mt, LeaseTransitions: &zero},
		}
		if err := e.cfg.Client.Create(ctx, &lease); err != nil {
			return false, err
		}
		e.observe(&lease, now)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	e.observe(&lease, now)
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if holder != e.cfg.Identity && holder != "" && now.Before(e.observedAt.Add(e.cfg.LeaseDuration)) {
		return false, nil // held by someone else, and alive as far as we have seen
	}
	if holder != e.cfg.Identity {
		t := int32(0)
		if lease.Spec.LeaseTransitions != nil {
			t = *lease.Spec.LeaseTransitions
		}
		t++
		lease.Spec.LeaseTransitions = &t
		lease.Spec.AcquireTime = &mt
	}
	lease.Spec.HolderIdentity = &e.cfg.Identity
	lease.Spec.RenewTime = &mt
	lease.Spec.LeaseDurationSeconds = &secs
	// Update carries the resourceVersion we read: if anyone wrote the Lease
	// since, this fails with a conflict and we try again next period.
	if err := e.cfg.Client.Update(ctx, &lease); err != nil {
		return false, err
	}
	e.observe(&lease, now)
	return true, nil
}

func (e *elector) observe(l *coordination.Lease, now time.Time) {
	r := ""
	if l.Spec.RenewTime != nil {
		r = l.Spec.RenewTime.Format(time.RFC3339Nano)
	}
	if l.Spec.HolderIdentity != nil {
		r += "/" + *l.Spec.HolderIdentity
	}
	if r != e.observedRenew {
		e.observedRenew, e.observedAt = r, now
	}
}

// release gives the Lease up (empty holder) if we still hold it, so a
// standby takes over at once instead of waiting for it to expire. A
// conflict (our own last renewal crossing this write) is retried on the
// fresh Lease.
func (e *elector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for attempt := 0; attempt < 3; attempt++ {
		var lease coordination.Lease
		if err := e.cfg.Client.Get(ctx, e.cfg.Namespace, e.cfg.Name, &lease); err != nil {
			return
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != e.cfg.Identity {
			return
		}
		empty := ""
		lease.Spec.HolderIdentity = &empty
		err := e.cfg.Client.Update(ctx, &lease)
		if err == nil || !errors.Is(err, apierrors.ErrConflict) {
			if err != nil {
				slog.Info("releasing the lease failed", "err", err)
			}
			return
		}
	}
}
