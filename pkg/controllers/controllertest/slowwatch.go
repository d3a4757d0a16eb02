package controllertest

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"
)

// SlowWatchProxy returns the URL of a proxy to target that holds back
// every line of a watch stream by delay. Lists and writes pass at once:
// a controller behind it has a cache that lags its own writes, which is
// what expectations must cope with. The proxy stops when the test ends.
func SlowWatchProxy(t testing.TB, target string, delay time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1 // stream each line as it is released
	p.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Query().Get("watch") == "true" {
			resp.Body = &slowLines{r: bufio.NewReader(resp.Body), c: resp.Body, delay: delay}
		}
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// slowLines hands out one line per Read, each after delay.
type slowLines struct {
	r       *bufio.Reader
	c       io.Closer
	delay   time.Duration
	pending []byte
}

func (s *slowLines) Read(b []byte) (int, error) {
	if len(s.pending) == 0 {
		line, err := s.r.ReadBytes('\n')
		if len(line) == 0 {
			return 0, err
		}
		time.Sleep(s.delay)
		s.pending = line
	}
	n := copy(b, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

func (s *slowLines) Close() error { return s.c.Close() }
