package nodeagent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// The pod sandbox is what a pod's containers share besides the network
// (network.go): an IPC namespace with its own /dev/shm, so System V IPC and
// POSIX shared memory work between them, and a UTS namespace holding the
// pod's hostname. Kubernetes keeps these alive in a "pause" container; here
// they are namespaces pinned by bind mounts under the pod's directory, as
// the network namespace is, so they outlive every container of the pod and
// a restarted agent finds them again. No extra process runs per pod.
type sandbox struct {
	IPC, UTS, Shm string // paths to pass to the container runtime
}

// shmSize is the size of a pod's /dev/shm, Docker's and containerd's
// default.
const shmSize = 64 << 20

func sandboxPaths(root, podUID string) sandbox {
	dir := filepath.Join(podDir(root, podUID), "ns")
	return sandbox{IPC: filepath.Join(dir, "ipc"), UTS: filepath.Join(dir, "uts"), Shm: filepath.Join(dir, "shm")}
}

// ensureSandbox creates whatever part of the pod's sandbox is missing. It
// is idempotent, like the network's Setup.
func ensureSandbox(root, podUID, hostname string) (sandbox, error) {
	sb := sandboxPaths(root, podUID)
	if err := os.MkdirAll(filepath.Dir(sb.IPC), 0o755); err != nil {
		return sb, err
	}
	if !isNamespace(sb.IPC) {
		if err := pinNamespace(sb.IPC, unix.CLONE_NEWIPC, nil); err != nil {
			return sb, fmt.Errorf("creating IPC namespace: %w", err)
		}
	}
	if !isNamespace(sb.UTS) {
		sethost := func() error { return unix.Sethostname([]byte(hostname)) }
		if err := pinNamespace(sb.UTS, unix.CLONE_NEWUTS, sethost); err != nil {
			return sb, fmt.Errorf("creating UTS namespace: %w", err)
		}
	}
	if !isMountPoint(sb.Shm) {
		if err := os.MkdirAll(sb.Shm, 0o755); err != nil { // the tmpfs brings mode 1777
			return sb, err
		}
		opts := fmt.Sprintf("mode=1777,size=%d", shmSize)
		if err := unix.Mount("shm", sb.Shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
			return sb, fmt.Errorf("mounting the pod's /dev/shm: %w", err)
		}
	}
	return sb, nil
}

// removeSandbox unmounts the pod's namespaces and /dev/shm (the kernel
// frees a namespace when its last process and mount are gone). It must run
// before the pod's directory is removed: a mount point cannot be unlinked.
func removeSandbox(root, podUID string) error {
	sb := sandboxPaths(root, podUID)
	var errs []error
	for _, p := range []string{sb.IPC, sb.UTS, sb.Shm} {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// pinNamespace creates a namespace of the given kind (a CLONE_NEW* flag)
// and bind-mounts it at path, running setup inside it first. The thread
// that unshared is locked and never unlocked, so Go ends it with its
// goroutine instead of reusing it in the wrong namespace.
func pinNamespace(path string, kind int, setup func() error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	name := map[int]string{unix.CLONE_NEWNET: "net", unix.CLONE_NEWIPC: "ipc", unix.CLONE_NEWUTS: "uts"}[kind]
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(kind); err != nil {
			errc <- err
			return
		}
		if setup != nil {
			if err := setup(); err != nil {
				errc <- err
				return
			}
		}
		src := fmt.Sprintf("/proc/%d/task/%d/ns/%s", os.Getpid(), unix.Gettid(), name)
		errc <- unix.Mount(src, path, "none", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// isNamespace reports whether path is a mounted namespace.
func isNamespace(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// isMountPoint reports whether something is mounted at path: it is on
// another device than its directory.
func isMountPoint(path string) bool {
	var st, parent unix.Stat_t
	return unix.Stat(path, &st) == nil && unix.Stat(filepath.Dir(path), &parent) == nil && st.Dev != parent.Dev
}
