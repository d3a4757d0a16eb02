package apiserver

import (
	"strings"
	"testing"
)

// TestRunConfigValidate: plain HTTP only on loopback, and the address the
// kubernetes Service advertises must be one pods can dial.
func TestRunConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg     RunConfig
		wantErr string // "" = valid
	}{
		{RunConfig{Listen: "127.0.0.1:6443", DataDir: "d"}, ""},
		{RunConfig{Listen: "0.0.0.0:6443", DataDir: "d"}, "only allowed on a loopback address"},
		{RunConfig{Listen: "10.1.2.3:6443", DataDir: "d"}, "only allowed on a loopback address"},
		{RunConfig{Listen: "127.0.0.1:6443"}, "--data-dir is required"},
		{RunConfig{Listen: "127.0.0.1:6443", DataDir: "d", AdvertiseAddress: "172.30.1.2"}, ""},
		{RunConfig{Listen: "127.0.0.1:6443", DataDir: "d", AdvertiseAddress: "0.0.0.0"}, "--advertise-address"},
		{RunConfig{Listen: "127.0.0.1:6443", DataDir: "d", AdvertiseAddress: "cp.lab"}, "--advertise-address"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%+v: %v; want valid", tc.cfg, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%+v: error %v; want one containing %q", tc.cfg, err, tc.wantErr)
		}
	}
}
