package cronjob

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestParseScheduleRejectsWhatKubernetesRejects(t *testing.T) {
	for _, spec := range []string{
		"", "* * * *", "* * * * * *", // field count
		"60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * 0 *", "* * * * 8", // ranges
		"5-1 * * * *", "*/0 * * * *", "*/x * * * *", "1-2-3 * * * *", "a * * * *", "* * * JANUARY *", "* * * * MON-XYZ",
		"@sometimes", "@every", "@every soon",
	} {
		if _, err := parseSchedule(spec, time.UTC); err == nil {
			t.Errorf("parseSchedule(%q) = nil error; want an error", spec)
		}
	}
}

func TestNextActivation(t *testing.T) {
	// 2024-01-01 is a Monday.
	tests := []struct {
		spec, from, want string
	}{
		{"* * * * *", "2024-01-01T00:00:30Z", "2024-01-01T00:01:00Z"},
		{"* * * * *", "2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"}, // strictly after
		{"*/15 * * * *", "2024-01-01T00:14:00Z", "2024-01-01T00:15:00Z"},
		{"5/20 * * * *", "2024-01-01T00:06:00Z", "2024-01-01T00:25:00Z"}, // a/n: from a to the end
		{"0 9-17/4 * * *", "2024-01-01T13:00:00Z", "2024-01-01T17:00:00Z"},
		{"0,30 * * * *", "2024-01-01T00:10:00Z", "2024-01-01T00:30:00Z"},
		{"0 * * * *", "2024-01-01T23:59:00Z", "2024-01-02T00:00:00Z"},
		{"30 9 * * MON-FRI", "2024-01-06T10:00:00Z", "2024-01-08T09:30:00Z"}, // Saturday -> Monday
		{"0 0 * * 7", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"},        // 7 is Sunday
		{"0 0 * * sun", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"},
		{"0 0 * * */2", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"}, // Sun, Tue, Thu, Sat
		// Both day fields restricted: either matches (the 13th or a Friday).
		{"0 0 13 * FRI", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"},
		{"0 0 13 * FRI", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z"},
		// One day field "*": only the other counts.
		{"0 0 13 * *", "2024-01-01T00:00:00Z", "2024-01-13T00:00:00Z"},
		{"0 0 * * FRI", "2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z"},
		{"0 12 * jan,Jul *", "2024-02-01T00:00:00Z", "2024-07-01T12:00:00Z"},
		{"0 0 31 * *", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"},   // April has no 31st
		{"0 0 29 FEB *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"}, // leap years only
		{"0 0 30 2 *", "2024-01-01T00:00:00Z", ""},                       // never
		{"@yearly", "2024-01-01T00:00:30Z", "2025-01-01T00:00:00Z"},
		{"@annually", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"@monthly", "2024-01-31T23:59:59Z", "2024-02-01T00:00:00Z"},
		{"@weekly", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"},
		{"@daily", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"},
		{"@midnight", "2024-01-01T12:00:00Z", "2024-01-02T00:00:00Z"},
		{"@hourly", "2024-01-01T00:59:59Z", "2024-01-01T01:00:00Z"},
		{"@every 90m", "2024-01-01T00:00:30.5Z", "2024-01-01T01:30:30Z"},
	}
	for _, tt := range tests {
		s, err := parseSchedule(tt.spec, time.UTC)
		if err != nil {
			t.Errorf("parseSchedule(%q): %v", tt.spec, err)
			continue
		}
		got := s.Next(mustTime(t, tt.from))
		if tt.want == "" {
			if !got.IsZero() {
				t.Errorf("%q.Next(%s) = %v; want none", tt.spec, tt.from, got)
			}
			continue
		}
		if want := mustTime(t, tt.want); !got.Equal(want) {
			t.Errorf("%q.Next(%s) = %v; want %v", tt.spec, tt.from, got.UTC(), want)
		}
	}
}

func TestNextActivationInATimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	tests := []struct{ spec, from, want string }{
		{"0 9 * * *", "2024-01-01T00:00:00Z", "2024-01-01T14:00:00Z"}, // EST is UTC-5
		{"0 9 * * *", "2024-07-01T00:00:00Z", "2024-07-01T13:00:00Z"}, // EDT is UTC-4
		// 02:30 does not exist on 2024-03-10 (clocks jump 2:00 -> 3:00):
		// the run of that day is skipped, the search does not stall.
		{"30 2 * * *", "2024-03-09T12:00:00Z", "2024-03-11T06:30:00Z"},
	}
	for _, tt := range tests {
		s, err := parseSchedule(tt.spec, ny)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Next(mustTime(t, tt.from)), mustTime(t, tt.want); !got.Equal(want) {
			t.Errorf("%q in New York: Next(%s) = %v; want %v", tt.spec, tt.from, got.UTC(), want)
		}
	}
}

// TestLastIsTheLatestActivation checks Last against Next: the time it
// returns is an activation, no activation lies between it and until, and
// it is after since.
func TestLastIsTheLatestActivation(t *testing.T) {
	specs := []string{"* * * * *", "*/7 * * * *", "0 9-17 * * MON-FRI", "0 0 13 * FRI", "0 0 29 2 *", "@monthly", "@every 45m", "15 3 1,15 JAN,JUL *"}
	untils := []string{"2024-01-01T00:00:00Z", "2024-03-01T12:34:56Z", "2025-07-15T23:59:59Z", "2027-12-31T00:00:00Z"}
	for _, spec := range specs {
		s, err := parseSchedule(spec, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range untils {
			until := mustTime(t, u)
			since := until.AddDate(-4, 0, 0)
			last := s.Last(since, until)
			if last.IsZero() {
				t.Errorf("%q.Last(%v, %v) = none; want an activation", spec, since, until)
				continue
			}
			if !last.After(since) || last.After(until) {
				t.Errorf("%q.Last(%v, %v) = %v; want it in (since, until]", spec, since, until, last)
			}
			if spec[0] != '@' || spec == "@monthly" {
				if got := s.Next(last.Add(-time.Second)); !got.Equal(last) {
					t.Errorf("%q: Last = %v is not an activation (the next after it is %v)", spec, last, got)
				}
			}
			if next := s.Next(last); !next.After(until) {
				t.Errorf("%q.Last(.., %v) = %v, but %v comes before until", spec, until, last, next)
			}
		}
	}
	s, _ := parseSchedule("0 * * * *", time.UTC)
	if got := s.Last(mustTime(t, "2024-01-01T10:00:00Z"), mustTime(t, "2024-01-01T10:59:59Z")); !got.IsZero() {
		t.Errorf("Last over an hour without a new activation = %v; want none (since itself is excluded)", got)
	}
}
