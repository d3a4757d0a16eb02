package apiserver

import (
	"encoding/json"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"minik8s/pkg/apis/apierrors"
)

// envelope wraps a protobuf message as kubectl sends it.
func envelope(t *testing.T, apiVersion, kind string, raw []byte) []byte {
	t.Helper()
	u := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: apiVersion, Kind: kind}, Raw: raw, ContentType: "application/vnd.kubernetes.protobuf"}
	b, err := u.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{}, protoMagic...), b...)
}

func TestProtobufToJSON(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "gen"}, Data: map[string]string{"mode": "fast"}}
	raw, err := cm.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := protobufToJSON(envelope(t, "v1", "ConfigMap", raw))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	md, _ := got["metadata"].(map[string]any)
	if got["apiVersion"] != "v1" || got["kind"] != "ConfigMap" || md["name"] != "cfg" || md["namespace"] != "gen" ||
		got["data"].(map[string]any)["mode"] != "fast" {
		t.Errorf("decoded %s", doc)
	}
	if _, ok := md["creationTimestamp"]; ok {
		t.Errorf("null creationTimestamp kept: %s", doc)
	}

	// A kind minik8s does not take in protobuf, and garbage.
	if _, err := protobufToJSON(envelope(t, "policy/v1", "PodDisruptionBudget", nil)); !errors.Is(err, apierrors.ErrUnsupportedMedia) {
		t.Errorf("unknown kind: %v; want 415", err)
	}
	if _, err := protobufToJSON(envelope(t, "v1", "ConfigMap", []byte{0xff, 0xff})); !errors.Is(err, apierrors.ErrBadRequest) {
		t.Errorf("a broken message: %v; want 400", err)
	}
	if _, err := protobufToJSON([]byte("{}")); !errors.Is(err, apierrors.ErrBadRequest) {
		t.Errorf("no envelope: %v; want 400", err)
	}
}
