package nodeagent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	eventstypes "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/containerd/typeurl/v2"
	"github.com/distribution/reference"
	"github.com/opencontainers/runtime-spec/specs-go"

	"minik8s/pkg/apis/core"
)

// containerdRuntime implements Runtime, Images and Execer with the
// containerd client, in one containerd namespace. Create it with
// newContainerd; Close it when done.
type containerdRuntime struct {
	client   *containerd.Client
	ns       string
	logger   string // the binary the shim runs to write a container's logs
	resolver func() *docker.ResolverOptions
	log      *slog.Logger
	pullMu   sync.Mutex // one pull at a time per reference is enough here
}

func newContainerd(address, ns string, insecure []string, logger string, log *slog.Logger) (*containerdRuntime, error) {
	c, err := containerd.New(address, containerd.WithDefaultNamespace(ns), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connecting to containerd at %s: %w", address, err)
	}
	plain := map[string]bool{}
	for _, h := range insecure {
		plain[h] = true
	}
	ro := func() *docker.ResolverOptions {
		return &docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(
			docker.WithPlainHTTP(func(host string) (bool, error) { return plain[host], nil }))}
	}
	return &containerdRuntime{client: c, ns: ns, logger: logger, resolver: ro, log: log}, nil
}

func (r *containerdRuntime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.ns)
}

// Close closes the connection to containerd.
func (r *containerdRuntime) Close() error { return r.client.Close() }

// Version returns containerd's version for the Node's nodeInfo.
func (r *containerdRuntime) Version(ctx context.Context) string {
	v, err := r.client.Version(ctx)
	if err != nil {
		return "containerd://unknown"
	}
	return "containerd://" + v.Version
}

// List implements Runtime. It costs one containerd call for the containers
// (their labels come with the listing) and one per listed container for its
// task, so callers pass filters (podContainers, containerByID) to list only
// what they need: a pod's sync must not cost O(pods on the node).
func (r *containerdRuntime) List(ctx context.Context, filters ...string) ([]runtimeContainer, error) {
	ctx = r.ctx(ctx)
	cs, err := r.client.Containers(ctx, filters...)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var out []runtimeContainer
	for _, c := range cs {
		info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			return nil, err
		}
		labels := info.Labels
		if labels[labelPodUID] == "" {
			continue // not ours
		}
		rc := runtimeContainer{PodUID: labels[labelPodUID], PodNamespace: labels[labelPodNamespace], PodName: labels[labelPodName]}
		rc.ID = c.ID()
		rc.Name = labels[labelContainer]
		rc.Attempt, _ = strconv.Atoi(labels[labelAttempt])
		rc.Init = labels[labelInit] == "true"
		rc.Image, rc.ImageID = labels[labelImage], labels[labelImageID]
		rc.OOMKilled = labels[labelOOMKilled] == "true"
		if t, err := time.Parse(time.RFC3339Nano, labels[labelStartedAt]); err == nil {
			rc.StartedAt, rc.Started = t, true
		}
		// One call for the task's state, exit status and exit time.
		resp, err := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: rc.ID})
		err = errdefs.FromGRPC(err)
		if err == nil && resp.Process != nil {
			switch p := resp.Process; p.Status {
			case tasktypes.Status_RUNNING, tasktypes.Status_PAUSED, tasktypes.Status_PAUSING:
				rc.Running, rc.Started = true, true
			case tasktypes.Status_STOPPED:
				rc.Started = true
				rc.ExitCode = int32(p.ExitStatus)
				if p.ExitedAt != nil {
					rc.FinishedAt = p.ExitedAt.AsTime()
				}
			}
		} else if err != nil && !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("task of %s: %w", rc.ID, err)
		}
		out = append(out, rc)
	}
	return out, nil
}

// podContainers is the containerd filter for the containers of the pods
// named namespace/name (any uid: an earlier pod of the same name too).
func podContainers(namespace, name string) string {
	return fmt.Sprintf("labels.%q==%q,labels.%q==%q", labelPodNamespace, namespace, labelPodName, name)
}

// containerByID is the containerd filter for one container.
func containerByID(id string) string { return fmt.Sprintf("id==%q", id) }

// Start implements Runtime.
func (r *containerdRuntime) Start(ctx context.Context, s containerSpec) (err error) {
	ctx = r.ctx(ctx)
	img, err := r.client.GetImage(ctx, s.Image)
	if err != nil {
		return fmt.Errorf("image %s: %w", s.Image, err)
	}
	ispec, err := img.Spec(ctx)
	if err != nil {
		return fmt.Errorf("image %s config: %w", s.Image, err)
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithProcessArgs(processArgs(ispec.Config.Entrypoint, ispec.Config.Cmd, s.Command, s.Args)...),
		oci.WithEnv(s.Env),
		oci.WithHostname(s.Hostname),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: s.NetnsPath}),
	}
	if s.Sandbox.IPC != "" {
		opts = append(opts,
			oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: s.Sandbox.IPC}),
			oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UTSNamespace, Path: s.Sandbox.UTS}),
			withShm(s.Sandbox.Shm))
	}
	if s.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(s.WorkingDir))
	}
	var mounts []specs.Mount
	for _, m := range s.Mounts {
		o := []string{"rbind", "rw"}
		if m.ReadOnly {
			o = []string{"rbind", "ro"}
		}
		mounts = append(mounts, specs.Mount{Destination: m.Container, Type: "bind", Source: m.Host, Options: o})
	}
	opts = append(opts, oci.WithMounts(mounts))
	if s.MemoryLimit > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(s.MemoryLimit)))
	}
	if s.CPUShares > 0 {
		opts = append(opts, oci.WithCPUShares(s.CPUShares))
	}
	if s.CPUQuota > 0 {
		opts = append(opts, oci.WithCPUCFS(s.CPUQuota, 100000))
	}
	c, err := r.client.NewContainer(ctx, s.ID,
		containerd.WithImage(img),
		containerd.WithNewSnapshot(s.ID, img),
		containerd.WithNewSpec(opts...),
		containerd.WithContainerLabels(s.Labels))
	if err != nil {
		return fmt.Errorf("creating container %s: %w", s.ID, err)
	}
	defer func() {
		if err != nil {
			c.Delete(context.WithoutCancel(ctx), containerd.WithSnapshotCleanup)
		}
	}()
	if err := os.MkdirAll(filepath.Dir(s.LogPath), 0o755); err != nil {
		return err
	}
	task, err := c.NewTask(ctx, cio.BinaryIO(r.logger, map[string]string{logDriverArg: s.LogPath}))
	if err != nil {
		return fmt.Errorf("creating task %s: %w", s.ID, err)
	}
	if err := task.Start(ctx); err != nil {
		task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
		return fmt.Errorf("starting %s: %w", s.ID, err)
	}
	// The start time lives on the container so a restarted agent knows it.
	if _, err := c.SetLabels(ctx, map[string]string{labelStartedAt: time.Now().UTC().Format(time.RFC3339Nano)}); err != nil {
		r.log.Warn("recording start time", "container", s.ID, "err", err)
	}
	return nil
}

// withShm replaces the container's own /dev/shm with the pod's, so POSIX
// shared memory is shared along with the IPC namespace.
func withShm(host string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		ms := s.Mounts[:0]
		for _, m := range s.Mounts {
			if m.Destination != "/dev/shm" {
				ms = append(ms, m)
			}
		}
		s.Mounts = append(ms, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: host,
			Options: []string{"rbind", "rw", "nosuid", "nodev", "noexec"}})
		return nil
	}
}

// Stop implements Runtime.
func (r *containerdRuntime) Stop(ctx context.Context, id string, grace time.Duration) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return ignoreNotFound(err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return ignoreNotFound(err)
	}
	if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("SIGTERM to %s: %w", id, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := task.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("SIGKILL to %s: %w", id, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("container %s did not exit after SIGKILL", id)
	}
}

// Remove implements Runtime.
func (r *containerdRuntime) Remove(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	if task, err := c.Task(ctx, nil); err == nil {
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("deleting task %s: %w", id, err)
		}
	}
	return ignoreNotFound(c.Delete(ctx, containerd.WithSnapshotCleanup))
}

// markOOMKilled records on the container that the kernel OOM-killed it; the
// exit status alone (137) cannot tell that from a SIGKILL.
func (r *containerdRuntime) markOOMKilled(ctx context.Context, id string) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err == nil {
		_, err = c.SetLabels(ctx, map[string]string{labelOOMKilled: "true"})
	}
	if err != nil && !errdefs.IsNotFound(err) {
		r.log.Warn("recording OOM kill", "container", id, "err", err)
	}
}

// Exec implements Execer.
func (r *containerdRuntime) Exec(ctx context.Context, id string, cmd []string) (int, []byte, error) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return 0, nil, err
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	p := *spec.Process
	p.Args = cmd
	p.Terminal = false
	var out syncBuffer
	execID := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	proc, err := task.Exec(ctx, execID, &p, cio.NewCreator(cio.WithStreams(nil, &out, &out)))
	if err != nil {
		return 0, nil, err
	}
	defer proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
	done, err := proc.Wait(ctx)
	if err != nil {
		return 0, nil, err
	}
	if err := proc.Start(ctx); err != nil {
		return 0, nil, err
	}
	select {
	case st := <-done:
		return int(st.ExitCode()), out.Bytes(), nil
	case <-ctx.Done():
		proc.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return 0, out.Bytes(), fmt.Errorf("exec %v timed out", cmd)
	}
}

// EnsureImage implements Images.
func (r *containerdRuntime) EnsureImage(ctx context.Context, ref, policy string) (string, string, error) {
	ctx = r.ctx(ctx)
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", "", fmt.Errorf("%w: invalid image reference %q: %v", errImagePull, ref, err)
	}
	name := named.String()
	if policy != core.PullAlways {
		img, err := r.client.GetImage(ctx, name)
		if err == nil {
			return name, img.Target().Digest.String(), nil
		}
		if policy == core.PullNever {
			return "", "", fmt.Errorf("%w: %s", errImageNeverPull, name)
		}
	}
	r.pullMu.Lock()
	defer r.pullMu.Unlock()
	resolver := docker.NewResolver(*r.resolver())
	img, err := r.client.Pull(ctx, name, containerd.WithPullUnpack, containerd.WithResolver(resolver))
	if err != nil {
		return "", "", fmt.Errorf("%w: %s: %v", errImagePull, name, err)
	}
	return name, img.Target().Digest.String(), nil
}

// importImages imports every *.tar in dir (docker or OCI archives) and
// unpacks them, for nodes without a registry.
func (r *containerdRuntime) importImages(ctx context.Context, dir string) error {
	ctx = r.ctx(ctx)
	files, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil {
		return err
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		imgs, err := r.client.Import(ctx, fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("importing %s: %w", f, err)
		}
		for _, i := range imgs {
			if err := containerd.NewImage(r.client, i).Unpack(ctx, ""); err != nil {
				return fmt.Errorf("unpacking %s from %s: %w", i.Name, f, err)
			}
			r.log.Info("imported image", "image", i.Name)
		}
	}
	return nil
}

// watchExits calls fn with the container ID of every task that exits or is
// OOM-killed, until ctx is done. It resubscribes after errors.
func (r *containerdRuntime) watchExits(ctx context.Context, fn func(id string, oom bool)) {
	for ctx.Err() == nil {
		evs, errs := r.client.Subscribe(r.ctx(ctx), `topic=="/tasks/exit"`, `topic=="/tasks/oom"`)
	loop:
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-errs:
				if err != nil && ctx.Err() == nil {
					r.log.Warn("containerd events", "err", err)
				}
				break loop
			case env := <-evs:
				if env.Namespace != r.ns {
					continue
				}
				ev, err := typeurl.UnmarshalAny(env.Event)
				if err != nil {
					continue
				}
				switch e := ev.(type) {
				case *eventstypes.TaskExit:
					fn(e.ContainerID, false)
				case *eventstypes.TaskOOM:
					r.markOOMKilled(ctx, e.ContainerID)
					fn(e.ContainerID, true)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func ignoreNotFound(err error) error {
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// syncBuffer is a bytes.Buffer safe for the two copy goroutines of cio.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 64<<10 {
		return len(p), nil // probes only need the start
	}
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

var _ = errors.Is
var _ = strings.Cut
