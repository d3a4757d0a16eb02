package local

import (
	"reflect"
	"testing"
)

func TestSplitRuleHonoursQuotes(t *testing.T) {
	got := splitRule(`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`)
	want := []string{"-A", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestSplitRuleHonoursEscapedQuotes(t *testing.T) {
	got := splitRule(`-A POSTROUTING -s 10.244.0.3/32 -m comment --comment "name: \"minik8s\" id: \"a7\"" -j CNI-26fb`)
	want := []string{"-A", "POSTROUTING", "-s", "10.244.0.3/32", "-m", "comment", "--comment", `name: "minik8s" id: "a7"`, "-j", "CNI-26fb"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}
