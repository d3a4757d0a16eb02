package nodeagent

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"minik8s/pkg/apis/core"
)

func TestTokenRefreshDue(t *testing.T) {
	jwt := func(payload string) []byte {
		enc := base64.RawURLEncoding.EncodeToString
		return []byte(enc([]byte(`{"alg":"ES256"}`)) + "." + enc([]byte(payload)) + ".c2ln\n")
	}
	iat := time.Unix(1_700_000_000, 0)
	token := jwt(fmt.Sprintf(`{"iss":"x","iat":%d,"exp":%d}`, iat.Unix(), iat.Add(1000*time.Second).Unix()))
	for _, tc := range []struct {
		name  string
		token []byte
		now   time.Time
		want  bool
	}{
		{"fresh", token, iat.Add(time.Second), false},
		{"just before 80%", token, iat.Add(799 * time.Second), false},
		{"at 80%", token, iat.Add(800 * time.Second), true},
		{"expired", token, iat.Add(2000 * time.Second), true},
		{"not a JWT", []byte("garbage"), iat, true},
		{"payload not base64", []byte("a.%%%.c"), iat, true},
		{"no exp", jwt(fmt.Sprintf(`{"iat":%d}`, iat.Unix())), iat, true},
		{"empty file", nil, iat, true},
	} {
		if got := tokenRefreshDue(tc.token, tc.now); got != tc.want {
			t.Errorf("%s: tokenRefreshDue = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestConditionsDiffer(t *testing.T) {
	ready := func(s string) []core.NodeCondition {
		return []core.NodeCondition{{Type: core.NodeReady, Status: s, Reason: "r", Message: "m"}}
	}
	if conditionsDiffer(ready("True"), ready("True")) {
		t.Error("same statuses differ")
	}
	if !conditionsDiffer(ready("Unknown"), ready("True")) {
		t.Error("Unknown vs True: want a difference (the controller marked the node while the agent was away)")
	}
	if !conditionsDiffer(nil, ready("True")) {
		t.Error("no conditions vs Ready: want a difference")
	}
}
