package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Spec is a parsed schedule: its expression and time zone.
type Spec struct {
	expr string
	loc  *time.Location
	// every is the period of an @every schedule, whose ticks fall on
	// the multiples of it since the Unix epoch; zero for a cron one.
	every time.Duration
	cron  cron.Schedule
	// once: the schedule names its hours (its hour field is not *), so
	// a wall clock time the clocks show twice ticks once; a schedule of
	// every hour ticks at each of them, an hour apart.
	once bool
}

// The fields of a cron expression, in order.
var fields = []string{"minute", "hour", "day of month", "month", "day of week"}

// parser reads five fields or a shortcut (@yearly, @annually, @monthly,
// @weekly, @daily, @midnight, @hourly).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ErrSpec is wrapped by the errors of [Parse].
var ErrSpec = errors.New("schedule: bad schedule")

// Parse reads expr in the time zone tz (an IANA name such as
// "Europe/Paris"; "" is UTC): five fields, minute (0-59), hour (0-23),
// day of month (1-31), month (1-12 or JAN-DEC), day of week (0-6 or
// SUN-SAT), each a value, a range (1-5), a list (1,15), a step (*/15,
// 0-30/10) or *; or a shortcut: @yearly (or @annually), @monthly,
// @weekly, @daily (or @midnight), @hourly, or @every D, a whole number
// of seconds of at least one (@every 90s, @every 1h30m), whose ticks fall
// on the multiples of D since 1970-01-01 00:00 UTC. The time zone is not
// written in expr (no CRON_TZ=). Errors wrap ErrSpec and name the field
// at fault.
func Parse(expr, tz string) (*Spec, error) {
	expr = strings.Join(strings.Fields(expr), " ")
	loc, err := location(tz)
	if err != nil {
		return nil, err
	}
	s := &Spec{expr: expr, loc: loc}
	switch {
	case expr == "":
		return nil, fmt.Errorf("%w: empty expression (want five fields: %s; or a shortcut such as @daily)", ErrSpec, strings.Join(fields, ", "))
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, fmt.Errorf("%w: %q: give the time zone apart from the expression", ErrSpec, expr)
	case strings.HasPrefix(expr, "@every"):
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(expr, "@every")))
		if err != nil || d < time.Second || d%time.Second != 0 {
			return nil, fmt.Errorf("%w: %q: @every takes a whole number of seconds, at least one (@every 90s, @every 1h30m)", ErrSpec, expr)
		}
		s.every = d
		return s, nil
	case strings.HasPrefix(expr, "@"):
		c, err := parser.Parse(expr)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: unknown shortcut (want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every D)", ErrSpec, expr)
		}
		// @hourly ticks every hour that passes; the others at midnight
		s.cron, s.once = inZone(c, loc), expr != "@hourly"
		return s, nil
	}
	parts := strings.Fields(expr)
	if len(parts) != len(fields) {
		return nil, fmt.Errorf("%w: %q has %d fields, want %d: %s", ErrSpec, expr, len(parts), len(fields), strings.Join(fields, ", "))
	}
	c, err := parser.Parse(expr)
	if err != nil {
		return nil, fieldError(expr, parts, err)
	}
	s.cron, s.once = inZone(c, loc), parts[1] != "*"
	// 2000 is a leap year: a spec with no tick in the eight years after
	// it has none at all (its day of month is not in its months)
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%w: %q: fields 3 (day of month) %q and 4 (month) %q never meet: the schedule has no tick", ErrSpec, expr, parts[2], parts[3])
	}
	return s, nil
}

// fieldError is the error of expr naming its first field that does not
// parse on its own (the others made *), or the parser's error.
func fieldError(expr string, parts []string, err error) error {
	for i, p := range parts {
		probe := make([]string, len(parts))
		for j := range probe {
			probe[j] = "*"
		}
		probe[i] = p
		if _, ferr := parser.Parse(strings.Join(probe, " ")); ferr != nil {
			return fmt.Errorf("%w: %q: field %d (%s) %q: %v", ErrSpec, expr, i+1, fields[i], p, ferr)
		}
	}
	return fmt.Errorf("%w: %q: %v", ErrSpec, expr, err)
}

// location is the time zone tz.
func location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, fmt.Errorf("%w: time zone %q: want an IANA name such as Europe/Paris (or empty for UTC)", ErrSpec, tz)
	}
	return loc, nil
}

// inZone is c reading its fields in loc.
func inZone(c cron.Schedule, loc *time.Location) cron.Schedule {
	if sc, ok := c.(*cron.SpecSchedule); ok {
		sc.Location = loc
	}
	return c
}

// String is the expression, as Parse read it.
func (s *Spec) String() string { return s.expr }

// Location is the time zone the fields are read in.
func (s *Spec) Location() *time.Location { return s.loc }

// Next returns the first tick after t (strictly), in s's time zone.
//
// Around a change of the clocks, a tick follows the wall clock of the
// zone: a time that happens twice when the clocks go back ticks once
// (the first time) when the schedule names its hours (0 2 * * *), and at
// each of them when it does not (*/15 * * * *, @hourly: every quarter of
// an hour that passes); a time the clocks skip when they go forward does
// not tick that day (0 30 2 * * in Europe/Paris has no tick on the last
// Sunday of March). Zones whose clocks move by half an hour
// (Australia/Lord_Howe) may miss the ticks around their change.
func (s *Spec) Next(t time.Time) time.Time {
	if s.every > 0 {
		// the multiple of every after t, counted from the Unix epoch in
		// seconds (floor division: t may be before it)
		sec, d := t.Unix(), int64(s.every/time.Second)
		k := sec / d
		if sec%d < 0 {
			k--
		}
		return time.Unix((k+1)*d, 0).In(s.loc)
	}
	n := s.next(t)
	for s.once && !n.IsZero() && repeated(n) {
		n = s.next(n)
	}
	return n
}

// next is the cron schedule's next tick after t, looking past the five
// years the parser looks at (29 February has none from 2096 to 2104),
// or zero for none.
func (s *Spec) next(t time.Time) time.Time {
	for range 3 {
		if n := s.cron.Next(t); !n.IsZero() {
			return n.In(s.loc)
		}
		t = t.AddDate(4, 0, 0)
	}
	return time.Time{}
}

// repeated reports whether the wall clock time of t happened an instant
// before, in the hour the clocks went back: the second time it shows.
func repeated(t time.Time) bool {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, off := t.Zone()
	_, before := start.Add(-time.Nanosecond).Zone()
	return before > off && t.Sub(start) < time.Duration(before-off)*time.Second
}
