package printers

import (
	"testing"
	"time"
)

func TestHumanDurationThresholds(t *testing.T) {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-2 * time.Second, "<invalid>"},
		{-time.Second, "0s"}, // within the 2s skew tolerance
		{-500 * time.Millisecond, "0s"},
		{0, "0s"},
		{time.Second, "1s"},
		{119 * time.Second, "119s"},
		{120 * time.Second, "2m"},
		{200 * time.Second, "3m20s"},
		{5 * time.Minute, "5m"},
		{9*time.Minute + 59*time.Second, "9m59s"},
		{10 * time.Minute, "10m"},
		{10*time.Minute + 30*time.Second, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{3*time.Hour + 30*time.Minute, "3h30m"},
		{7*time.Hour + 59*time.Minute, "7h59m"},
		{8 * time.Hour, "8h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{51 * time.Hour, "2d3h"},
		{8*day - time.Hour, "7d23h"},
		{8 * day, "8d"},
		{729 * day, "729d"},
		{2 * year, "2y"},
		{2*year + day, "2y1d"},
		{8*year - day, "7y364d"},
		{8 * year, "8y"},
		{10 * year, "10y"},
	} {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v): got %q; want %q", tc.d, got, tc.want)
		}
	}
}
