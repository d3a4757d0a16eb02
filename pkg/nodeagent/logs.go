package nodeagent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/runtime/v2/logging"
)

// Container logs are files in the CRI log format, one per container
// instance: "<RFC3339Nano time> <stdout|stderr> <F|P> <text>\n" (P marks a
// line split because it was too long). The containerd shim runs the agent's
// own binary as a logging driver (RunLogDriver) which writes them; it is a
// child of the shim, not of the agent, so logs keep flowing while the agent
// is down.

// logDriverArg is the first argument the shim passes to the logging driver
// binary, followed by the log file path.
const logDriverArg = "log-file"

// IsLogDriver reports whether the process was started by the containerd
// shim as a logging driver (args: <binary> log-file <path>).
func IsLogDriver(args []string) bool { return len(args) == 3 && args[1] == logDriverArg }

// RunLogDriver is the logging driver's main: it copies the container's
// stdout and stderr (file descriptors from the shim) into path until both
// close, then exits the process.
func RunLogDriver(path string) {
	logging.Run(func(ctx context.Context, cfg *logging.Config, ready func() error) error {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := ready(); err != nil {
			return err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		copyStream := func(r io.Reader, stream string) {
			defer wg.Done()
			br := bufio.NewReaderSize(r, 16<<10)
			for {
				line, isPrefix, err := br.ReadLine()
				if len(line) > 0 || (err == nil && !isPrefix) {
					tag := "F"
					if isPrefix {
						tag = "P"
					}
					mu.Lock()
					fmt.Fprintf(f, "%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, tag, line)
					mu.Unlock()
				}
				if err != nil {
					return
				}
			}
		}
		wg.Add(2)
		go copyStream(cfg.Stdout, "stdout")
		go copyStream(cfg.Stderr, "stderr")
		wg.Wait()
		return nil
	})
}

// logPath is where an instance's log goes.
func logPath(root, podUID, container string, attempt int) string {
	return filepath.Join(root, "pods", podUID, "logs", container, strconv.Itoa(attempt)+".log")
}

// logFiles returns a container's log files, newest instance first.
func logFiles(root, podUID, container string) []string {
	files, _ := filepath.Glob(filepath.Join(root, "pods", podUID, "logs", container, "*.log"))
	attempt := func(f string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), ".log"))
		return n
	}
	sort.Slice(files, func(i, j int) bool { return attempt(files[i]) > attempt(files[j]) })
	return files
}

// logOptions are kubectl logs' options (the kubelet's query parameters).
type logOptions struct {
	Follow     bool
	Timestamps bool
	Previous   bool
	TailLines  int   // -1: all
	LimitBytes int64 // 0: no limit
	Since      time.Time
}

func parseLogOptions(q map[string][]string) (logOptions, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	o := logOptions{TailLines: -1}
	var err error
	parseBool := func(k string, dst *bool) {
		if s := get(k); s != "" && err == nil {
			*dst, err = strconv.ParseBool(s)
		}
	}
	parseBool("follow", &o.Follow)
	parseBool("timestamps", &o.Timestamps)
	parseBool("previous", &o.Previous)
	if s := get("tailLines"); s != "" && err == nil {
		o.TailLines, err = strconv.Atoi(s)
	}
	if s := get("limitBytes"); s != "" && err == nil {
		o.LimitBytes, err = strconv.ParseInt(s, 10, 64)
	}
	if s := get("sinceSeconds"); s != "" && err == nil {
		var n int
		n, err = strconv.Atoi(s)
		o.Since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if s := get("sinceTime"); s != "" && err == nil {
		o.Since, err = time.Parse(time.RFC3339, s)
	}
	return o, err
}

// logLine is one parsed line of a CRI log file.
type logLine struct {
	Time    time.Time
	Text    []byte
	Partial bool
}

func parseLogLine(b []byte) (logLine, bool) {
	f := bytes.SplitN(b, []byte(" "), 4)
	if len(f) < 3 {
		return logLine{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(f[0]))
	if err != nil {
		return logLine{}, false
	}
	l := logLine{Time: t, Partial: string(f[2]) == "P"}
	if len(f) == 4 {
		l.Text = f[3]
	}
	return l, true
}

// format renders a line as kubectl shows it.
func (l logLine) format(timestamps bool) []byte {
	var b []byte
	if timestamps {
		b = append(b, l.Time.Format(time.RFC3339Nano)...)
		b = append(b, ' ')
	}
	b = append(b, l.Text...)
	if !l.Partial {
		b = append(b, '\n')
	}
	return b
}

// writeLogs writes the log file to w as the options say; with Follow it
// keeps writing new lines until done() reports the container has stopped
// (and the file is drained) or ctx ends.
func writeLogs(ctx context.Context, w io.Writer, path string, o logOptions, done func() bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var written int64
	emit := func(l logLine) bool {
		if !o.Since.IsZero() && l.Time.Before(o.Since) {
			return true
		}
		b := l.format(o.Timestamps)
		if o.LimitBytes > 0 && written+int64(len(b)) > o.LimitBytes {
			w.Write(b[:o.LimitBytes-written])
			return false
		}
		written += int64(len(b))
		w.Write(b)
		return true
	}
	br := bufio.NewReader(f)
	// First what is there now, with tailLines applied.
	var lines []logLine
	var pending []byte
	for {
		b, err := br.ReadBytes('\n')
		if err != nil {
			pending = b // an incomplete last line: finish it when following
			break
		}
		if l, ok := parseLogLine(bytes.TrimSuffix(b, []byte("\n"))); ok {
			lines = append(lines, l)
		}
	}
	if o.TailLines >= 0 && len(lines) > o.TailLines {
		lines = lines[len(lines)-o.TailLines:]
	}
	for _, l := range lines {
		if !emit(l) {
			return nil
		}
	}
	if !o.Follow {
		return nil
	}
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	flush()
	for {
		b, err := br.ReadBytes('\n')
		pending = append(pending, b...)
		if err == nil {
			if l, ok := parseLogLine(bytes.TrimSuffix(pending, []byte("\n"))); ok && !emit(l) {
				return nil
			}
			pending = nil
			continue
		}
		flush()
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
