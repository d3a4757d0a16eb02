package nodeagent

import (
	"context"
	"errors"
	"time"
)

// Runtime is what the sync loop needs from a container runtime. Every
// container it lists carries the labels the agent gave it, so the pod a
// container belongs to can be found again after an agent restart.
type Runtime interface {
	// List returns the agent's containers, running or exited; with
	// filters (podContainers, containerByID) only those that match.
	List(ctx context.Context, filters ...string) ([]runtimeContainer, error)
	// Start creates and starts a container. On error nothing is left
	// behind.
	Start(ctx context.Context, spec containerSpec) error
	// Stop sends SIGTERM, waits up to grace, then SIGKILLs. The exited
	// container stays (for its status and logs) until Remove.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Remove deletes a container, its task and its root filesystem.
	Remove(ctx context.Context, id string) error
}

// Images makes an image present on the node.
type Images interface {
	// EnsureImage applies the pull policy (Always, IfNotPresent, Never) and
	// returns the normalized reference and image ID. Errors wrapping
	// errImageNeverPull or errImagePull are the user's to fix.
	EnsureImage(ctx context.Context, ref, policy string) (name, imageID string, err error)
}

// Execer runs a command in a running container (exec probes).
type Execer interface {
	Exec(ctx context.Context, id string, cmd []string) (exitCode int, output []byte, err error)
}

var (
	errImagePull      = errors.New("image pull failed")
	errImageNeverPull = errors.New("image is not present and imagePullPolicy is Never")
)

// runtimeContainer is one container as listed, with the pod it belongs to.
type runtimeContainer struct {
	instance
	PodUID, PodNamespace, PodName string
}

// containerSpec is everything needed to start one container instance; the
// agent builds it from the pod, the runtime turns it into an OCI spec.
type containerSpec struct {
	ID     string
	Labels map[string]string
	Image  string // normalized reference, already present
	// Command and Args have Kubernetes' meaning: Command replaces the
	// image's entrypoint, Args its cmd.
	Command, Args []string
	Env           []string // NAME=value, over the image's env
	WorkingDir    string
	Hostname      string
	NetnsPath     string
	Sandbox       sandbox // the IPC and UTS namespaces and /dev/shm of the pod
	Mounts        []mount
	MemoryLimit   int64  // bytes; 0: none
	CPUShares     uint64 // 0: runtime default
	CPUQuota      int64  // microseconds per 100 ms period; 0: none
	LogPath       string
}

// mount is a bind mount into a container.
type mount struct {
	Host, Container string
	ReadOnly        bool
}

// processArgs resolves what a container runs, as Kubernetes does: command
// replaces the entrypoint (and drops the image's cmd), args replaces cmd.
func processArgs(entrypoint, cmd, command, args []string) []string {
	if len(command) > 0 {
		return append(append([]string{}, command...), args...)
	}
	if len(args) > 0 {
		return append(append([]string{}, entrypoint...), args...)
	}
	return append(append([]string{}, entrypoint...), cmd...)
}

// Labels on containers. They are the agent's only memory of what a
// container is for.
const (
	labelPodUID       = "minik8s.io/pod-uid"
	labelPodNamespace = "minik8s.io/pod-namespace"
	labelPodName      = "minik8s.io/pod-name"
	labelContainer    = "minik8s.io/container-name"
	labelAttempt      = "minik8s.io/restart-count"
	labelInit         = "minik8s.io/init"
	labelImage        = "minik8s.io/image"
	labelImageID      = "minik8s.io/image-id"
	labelStartedAt    = "minik8s.io/started-at"
	labelOOMKilled    = "minik8s.io/oom-killed"
)
