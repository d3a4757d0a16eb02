package cronjob

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule says when a CronJob runs.
type Schedule interface {
	// Next returns the first activation strictly after t, or the zero
	// Time if there is none within five years ("0 0 30 2 *").
	Next(t time.Time) time.Time
	// Last returns the latest activation in (since, until], or the zero
	// Time if there is none. It costs the same however far apart the two
	// are: a controller that was down for years must not walk every
	// minute in between.
	Last(since, until time.Time) time.Time
}

// macros are the @ forms of standard cron (and of Kubernetes, through
// robfig/cron), as the five fields they stand for.
var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// field describes one of the five fields of a cron line.
type field struct {
	name     string
	min, max int
	names    []string // symbolic values; names[i] stands for min+i
}

var fields = [5]field{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	// 7 is Sunday as well as 0, as in Vixie cron.
	{"day of week", 0, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// parseSchedule parses a schedule in the syntax Kubernetes accepts (the
// same as batch.ValidateSchedule): five fields, minute hour day-of-month
// month day-of-week, each a comma-separated list of "*" (or "?"), a
// value, or a range "a-b", any of them optionally stepped with "/n"
// ("a/n" means a to the maximum by n); month and weekday names (JAN,
// mon, ...) in any case; or one of the @ macros, or "@every <duration>".
// Times are read in loc.
func parseSchedule(spec string, loc *time.Location) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("invalid duration in %q: %w", spec, err)
		}
		return newEvery(dur), nil
	}
	if m, ok := macros[spec]; ok {
		spec = m
	} else if strings.HasPrefix(spec, "@") {
		return nil, fmt.Errorf("unrecognized descriptor %q: want one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>", spec)
	}
	parts := strings.Fields(spec)
	if len(parts) != len(fields) {
		return nil, fmt.Errorf("expected exactly 5 fields (minute hour day-of-month month day-of-week), found %d in %q", len(parts), spec)
	}
	var sets [5]uint64
	var stars [5]bool
	for i, p := range parts {
		var err error
		if sets[i], stars[i], err = parseField(p, fields[i]); err != nil {
			return nil, fmt.Errorf("%s field %q: %w", fields[i].name, p, err)
		}
	}
	// Sunday is 0; fold 7 into it.
	if dow := &sets[4]; *dow&(1<<7) != 0 {
		*dow = *dow&^(1<<7) | 1
	}
	return &cronSchedule{
		minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4],
		domStar: stars[2], dowStar: stars[4], loc: loc,
	}, nil
}

// parseField returns the set of values a field matches, as bits, and
// whether it is unrestricted: "*" or "?" without a step (other than 1),
// which matters for the day rule (see dayMatches).
func parseField(s string, f field) (set uint64, star bool, err error) {
	for _, item := range strings.Split(s, ",") {
		rng, stepText, stepped := strings.Cut(item, "/")
		step := 1
		if stepped {
			if step, err = strconv.Atoi(stepText); err != nil || step <= 0 {
				return 0, false, fmt.Errorf("invalid step %q: want a positive integer", stepText)
			}
		}
		var lo, hi int
		if rng == "*" || rng == "?" {
			lo, hi = f.min, f.max
			star = star || step == 1
		} else {
			loText, hiText, isRange := strings.Cut(rng, "-")
			if lo, err = value(loText, f); err != nil {
				return 0, false, err
			}
			switch {
			case isRange:
				if hi, err = value(hiText, f); err != nil {
					return 0, false, err
				}
			case stepped:
				hi = f.max
			default:
				hi = lo
			}
			if lo > hi {
				return 0, false, fmt.Errorf("range %d-%d: the beginning is beyond the end", lo, hi)
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, star, nil
}

// value reads one number or name of field f.
func value(s string, f field) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or a %s name", s, f.name)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range [%d, %d]", n, f.min, f.max)
	}
	return n, nil
}

// cronSchedule is a parsed five-field line. Each set has bit v set when
// value v matches.
type cronSchedule struct {
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record an unrestricted day field.
	domStar, dowStar bool
	loc              *time.Location
}

func has(set uint64, v int) bool { return set&(1<<v) != 0 }

// dayMatches is cron's day rule: when both day fields are restricted, a
// day matches if either does ("0 0 1,15 * MON" runs on the 1st, the 15th
// and every Monday); when one is "*", only the other counts.
func (s *cronSchedule) dayMatches(t time.Time) bool {
	dom, dow := has(s.dom, t.Day()), has(s.dow, int(t.Weekday()))
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Next walks forward from the minute after t, skipping a whole month,
// day or hour whenever that field does not match, so it takes at most a
// few hundred steps per year searched. Hours and minutes advance in
// absolute time, so a daylight-saving jump neither loops nor stalls; a
// local time that happens twice (autumn) matches twice.
func (s *cronSchedule) Next(t time.Time) time.Time {
	t = t.In(s.loc)
	t = t.Add(-time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond())).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		var next time.Time
		switch {
		case !has(s.month, int(t.Month())):
			next = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, s.loc)
		case !s.dayMatches(t):
			next = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, s.loc)
		case !has(s.hour, t.Hour()):
			next = t.Add(time.Duration(60-t.Minute()) * time.Minute)
		case !has(s.minute, t.Minute()):
			next = t.Add(time.Minute)
		default:
			return t
		}
		if !next.After(t) {
			// A midnight that does not exist (a DST jump at 00:00) can
			// normalize backwards; step on by the hour instead.
			next = t.Add(time.Hour)
		}
		t = next
	}
	return time.Time{}
}

// prev is Next backwards: the latest activation at or before t.
func (s *cronSchedule) prev(t time.Time) time.Time {
	t = t.In(s.loc)
	t = t.Add(-time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.AddDate(-5, 0, 0)
	for t.After(limit) {
		var next time.Time
		switch {
		case !has(s.month, int(t.Month())):
			next = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, s.loc).Add(-time.Minute)
		case !s.dayMatches(t):
			next = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc).Add(-time.Minute)
		case !has(s.hour, t.Hour()):
			next = t.Add(-time.Duration(t.Minute()+1) * time.Minute)
		case !has(s.minute, t.Minute()):
			next = t.Add(-time.Minute)
		default:
			return t
		}
		if !next.Before(t) {
			next = t.Add(-time.Hour)
		}
		t = next
	}
	return time.Time{}
}

func (s *cronSchedule) Last(since, until time.Time) time.Time {
	if p := s.prev(until); !p.IsZero() && p.After(since) {
		return p
	}
	return time.Time{}
}

// every is "@every <duration>": activations every interval, counted from
// the CronJob's last schedule (or creation), at whole seconds, as
// robfig/cron's ConstantDelaySchedule that Kubernetes uses.
type every struct{ interval time.Duration }

func newEvery(d time.Duration) every {
	return every{max(time.Second, d.Truncate(time.Second))}
}

func (e every) Next(t time.Time) time.Time { return t.Truncate(time.Second).Add(e.interval) }

func (e every) Last(since, until time.Time) time.Time {
	since = since.Truncate(time.Second)
	n := until.Sub(since) / e.interval
	if n < 1 {
		return time.Time{}
	}
	return since.Add(n * e.interval)
}
