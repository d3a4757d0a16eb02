package field

import "testing"

func TestPathString(t *testing.T) {
	tests := []struct {
		p    *Path
		want string
	}{
		{NewPath("metadata", "name"), "metadata.name"},
		{NewPath("spec").Child("containers").Index(2).Child("image"), "spec.containers[2].image"},
		{NewPath("metadata").Child("labels").Key("app"), "metadata.labels[app]"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("got %q; want %q", got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{Required(NewPath("spec", "containers"), ""), "spec.containers: Required value"},
		{Invalid(NewPath("metadata", "name"), "Foo", "must be lowercase"), `metadata.name: Invalid value: "Foo": must be lowercase`},
		{NotSupported(NewPath("spec", "restartPolicy"), "Sometimes", []string{"Always", "Never"}),
			`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never"`},
		{Invalid(NewPath("spec", "replicas"), int32(-1), "must be greater than or equal to 0"),
			`spec.replicas: Invalid value: -1: must be greater than or equal to 0`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q; want %q", got, tt.want)
		}
	}
}
