// Command testimages builds the small container images minik8s' tests run,
// without the internet: "busybox" (Debian's static /bin/busybox with a link
// per applet) and "testserver" (busybox plus our own HTTP test server, see
// ./testserver). It writes them as docker-archive tarballs that
// `nodeagent --preload-images` and `ctr images import` accept, and/or pushes
// them to a plain-HTTP registry.
//
//	go run ./hack/testimages -out DIR              # DIR/busybox.tar, DIR/testserver.tar
//	go run ./hack/testimages -push 127.0.0.1:5000  # 127.0.0.1:5000/minik8s/{busybox,testserver}:latest
//
// Tarballs are tagged <-prefix>/<name>:latest (default prefix
// 127.0.0.1:5000/minik8s, the same name a pushed image has, so a manifest
// works whichever way the image reached the node).
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	out := flag.String("out", "", "directory to write <image>.tar docker archives to")
	push := flag.String("push", "", "plain-HTTP registry HOST:PORT to push minik8s/<image>:latest to")
	prefix := flag.String("prefix", "127.0.0.1:5000/minik8s", "repository prefix of the tarballs' tags")
	busybox := flag.String("busybox", "/bin/busybox", "a statically linked busybox")
	flag.Parse()
	if *out == "" && *push == "" {
		fmt.Fprintln(os.Stderr, "testimages: give -out DIR and/or -push HOST:PORT")
		os.Exit(2)
	}
	if err := run(*out, *push, *prefix, *busybox); err != nil {
		fmt.Fprintln(os.Stderr, "testimages:", err)
		os.Exit(1)
	}
}

func run(out, push, prefix, busybox string) error {
	imgs, err := build(busybox)
	if err != nil {
		return err
	}
	for name, img := range imgs {
		if out != "" {
			tag, err := names(prefix + "/" + name + ":latest")
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			if err := tarball.WriteToFile(filepath.Join(out, name+".tar"), tag, img); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			}
		}
		if push != "" {
			tag, err := names(push + "/minik8s/" + name + ":latest")
			if err != nil {
				return err
			}
			if err := remote.Write(tag, img); err != nil {
				return fmt.Errorf("pushing %s: %w", tag, err)
			}
		}
	}
	return nil
}

func names(ref string) (name.Tag, error) {
	// Insecure: the test registries speak plain HTTP.
	return name.NewTag(ref, name.Insecure)
}

// build returns the images by name.
func build(busybox string) (map[string]v1.Image, error) {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	applets, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	base, err := layer(func(tw *tar.Writer) error { return busyboxFiles(tw, bb, strings.Fields(string(applets))) })
	if err != nil {
		return nil, err
	}
	server, err := goBinary("minik8s/hack/testimages/testserver")
	if err != nil {
		return nil, err
	}
	top, err := layer(func(tw *tar.Writer) error { return file(tw, "testserver", server, 0o755) })
	if err != nil {
		return nil, err
	}
	bbImg, err := image([]v1.Layer{base}, v1.Config{Cmd: []string{"sh"}})
	if err != nil {
		return nil, err
	}
	tsImg, err := image([]v1.Layer{base, top}, v1.Config{Entrypoint: []string{"/testserver"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}}})
	if err != nil {
		return nil, err
	}
	return map[string]v1.Image{"busybox": bbImg, "testserver": tsImg}, nil
}

func image(layers []v1.Layer, cfg v1.Config) (v1.Image, error) {
	cfg.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	// The config first, then the layers: AppendLayers records each
	// layer's diff ID in the config's rootfs, which containerd checks.
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", Config: cfg,
		// A fixed date keeps the image digest reproducible.
		Created: v1.Time{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		RootFS:  v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(base, layers...)
}

// goBinary builds a static Go binary for the image.
func goBinary(pkg string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "testimages-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s: %w", pkg, err)
	}
	return os.ReadFile(bin)
}

// busyboxFiles writes a minimal root: busybox, a link per applet in /bin,
// and the directories programs expect.
func busyboxFiles(tw *tar.Writer, bb []byte, applets []string) error {
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "root", "var", "usr"} {
		if err := dir(tw, d, 0o755); err != nil {
			return err
		}
	}
	if err := dir(tw, "tmp", 0o1777); err != nil {
		return err
	}
	if err := file(tw, "bin/busybox", bb, 0o755); err != nil {
		return err
	}
	for _, a := range applets {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}); err != nil {
			return err
		}
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
	if err := file(tw, "etc/passwd", []byte(passwd), 0o644); err != nil {
		return err
	}
	return file(tw, "etc/group", []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
}

func dir(tw *tar.Writer, name string, mode int64) error {
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode})
}

func file(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// layer turns the files fill writes into an uncompressed-in-memory layer.
func layer(fill func(*tar.Writer) error) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := fill(tw); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}
