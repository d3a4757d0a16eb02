package resource

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestQuantityStringIsCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"0.5", "500m"},
		{"1000m", "1"},
		{"100m", "100m"},
		{"1536Mi", "1536Mi"},
		{"1.5Gi", "1536Mi"},
		{"1024Mi", "1Gi"},
		{"1Ki", "1Ki"},
		{"512Ki", "512Ki"},
		{"0.5Ki", "512"},
		{"0.1Ki", "102400m"},
		{"1e3", "1e3"}, // Kubernetes keeps the exponent form
		{"1E3", "1e3"},
		{"1.5e3", "1500"},
		{"12e-3", "12e-3"},
		{"2000", "2k"},
		{"1500", "1500"},
		{"128974848", "128974848"},
		{"129e6", "129e6"},
		{"129M", "129M"},
		{"1.000", "1"},
		{"+5", "5"},
		{"-5", "-5"},
		{"-0.5", "-500m"},
		{"-1.5Gi", "-1536Mi"},
		{"1n", "1n"},
		{"0.1n", "1n"}, // rounded up to a nano
		{"1u", "1u"},
		{".5", "500m"},
		{"5.", "5"},
		{"1000E", "1000E"},
		{"1000000E", "1000000E"},
		{"10Ei", "9223372036854775807"}, // BinarySI is capped at MaxInt64
	}
	for _, tt := range tests {
		q, err := ParseQuantity(tt.in)
		if err != nil {
			t.Errorf("ParseQuantity(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("ParseQuantity(%q).String() = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseQuantityRejectsMalformed(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrFormatWrong},
		{"abc", ErrFormatWrong},
		{"1 Gi", ErrFormatWrong},
		{".", ErrFormatWrong},
		{"-", ErrFormatWrong},
		{"1.2.3", ErrNumeric},
		{"1Gb", ErrFormatWrong},
		{"1K", ErrSuffix},
		{"1KiB", ErrFormatWrong},
		{"1e", ErrSuffix},
		{"1e+", ErrSuffix},
		{"1mm", ErrSuffix},
	}
	for _, tt := range tests {
		_, err := ParseQuantity(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseQuantity(%q) error = %v; want %v", tt.in, err, tt.want)
		}
	}
}

func TestQuantityValueRoundsAwayFromZero(t *testing.T) {
	tests := []struct {
		in          string
		value, mill int64
	}{
		{"100m", 1, 100},
		{"1", 1, 1000},
		{"1.5", 2, 1500},
		{"-1.5", -2, -1500},
		{"1n", 1, 1},
		{"1Gi", 1 << 30, 1000 << 30},
		{"1E", 1e18, math.MaxInt64},
		{"100E", math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		q := MustParse(tt.in)
		if got := q.Value(); got != tt.value {
			t.Errorf("%s.Value() = %d; want %d", tt.in, got, tt.value)
		}
		if got := q.MilliValue(); got != tt.mill {
			t.Errorf("%s.MilliValue() = %d; want %d", tt.in, got, tt.mill)
		}
	}
}

func TestQuantityArithmetic(t *testing.T) {
	q := MustParse("500m")
	q.Add(MustParse("1.5"))
	if got := q.String(); got != "2" {
		t.Errorf("500m + 1.5 = %s; want 2", got)
	}
	var z Quantity
	z.Add(MustParse("1Gi"))
	z.Add(MustParse("512Mi"))
	if got := z.String(); got != "1536Mi" {
		t.Errorf("0 + 1Gi + 512Mi = %s; want 1536Mi (a zero sum takes the first format)", got)
	}
	z.Sub(MustParse("1536Mi"))
	if !z.IsZero() {
		t.Errorf("1536Mi - 1536Mi = %s; want 0", z.String())
	}
	if got := MustParse("1Gi").Cmp(MustParse("1073741824")); got != 0 {
		t.Errorf("Cmp(1Gi, 1073741824) = %d; want 0", got)
	}
	if got := MustParse("999m").Cmp(MustParse("1")); got != -1 {
		t.Errorf("Cmp(999m, 1) = %d; want -1", got)
	}
	if got := NewMilliQuantity(250, DecimalSI).String(); got != "250m" {
		t.Errorf("NewMilliQuantity(250) = %s; want 250m", got)
	}
	if got := NewQuantity(4<<30, BinarySI).String(); got != "4Gi" {
		t.Errorf("NewQuantity(4<<30, BinarySI) = %s; want 4Gi", got)
	}
}

func TestQuantityJSON(t *testing.T) {
	var v struct {
		A, B, C Quantity
		D       *Quantity
	}
	if err := json.Unmarshal([]byte(`{"A":"1.5Gi","B":0.5,"C":2,"D":null}`), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"A":"1536Mi","B":"500m","C":"2","D":null}`; got != want {
		t.Errorf("round trip = %s; want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"A":"1Gb"}`), &v); err == nil {
		t.Errorf("decoding 1Gb: got no error; want one")
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"0", "100m", "1.5Gi", "1e3", "-12e-3", "0.1n", "9Ei", ".5", "1E", "+1.e-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		out := q.String()
		back, err := ParseQuantity(out)
		if err != nil {
			t.Fatalf("ParseQuantity(%q).String() = %q, which does not parse: %v", s, out, err)
		}
		if back.Cmp(q) != 0 {
			t.Fatalf("ParseQuantity(%q) = %s, re-parsed as %s: not equal", s, out, back.String())
		}
		if again := back.String(); again != out {
			t.Fatalf("String is not stable for %q: %q then %q", s, out, again)
		}
	})
}
