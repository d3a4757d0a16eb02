package intstr

import (
	"encoding/json"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want IntOrString
	}{
		{`8080`, FromInt(8080)},
		{`"http"`, FromString("http")},
		{`"25%"`, FromString("25%")},
		{`"80"`, FromString("80")},
	}
	for _, tt := range tests {
		var got IntOrString
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("Unmarshal(%s) = %+v; want %+v", tt.in, got, tt.want)
		}
		out, _ := json.Marshal(got)
		if string(out) != tt.in {
			t.Errorf("Marshal(%+v) = %s; want %s", got, out, tt.in)
		}
	}
	var v IntOrString
	if err := json.Unmarshal([]byte(`1.5`), &v); err == nil {
		t.Errorf("Unmarshal(1.5): got no error; want one")
	}
}

func TestGetScaledValueFromIntOrPercent(t *testing.T) {
	tests := []struct {
		v       IntOrString
		total   int
		roundUp bool
		want    int
		wantErr bool
	}{
		{FromInt(3), 10, false, 3, false},
		{FromString("25%"), 10, true, 3, false},
		{FromString("25%"), 10, false, 2, false},
		{FromString("25%"), 4, true, 1, false},
		{FromString("0%"), 10, true, 0, false},
		{FromString("100%"), 7, false, 7, false},
		{FromString("25"), 10, true, 0, true},
		{FromString("x%"), 10, true, 0, true},
	}
	for _, tt := range tests {
		got, err := GetScaledValueFromIntOrPercent(&tt.v, tt.total, tt.roundUp)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("GetScaledValueFromIntOrPercent(%s, %d, %v) = %d, %v; want %d, error %v",
				tt.v.String(), tt.total, tt.roundUp, got, err, tt.want, tt.wantErr)
		}
	}
}
