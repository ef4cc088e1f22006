package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

func TestParseErrorsNameTheField(t *testing.T) {
	for _, c := range []struct{ expr, tz, want string }{
		{"61 * * * *", "", "field 1 (minute)"},
		{"* 24 * * *", "", "field 2 (hour)"},
		{"0 0 32 * *", "", "field 3 (day of month)"},
		{"0 0 1 13 *", "", "field 4 (month)"},
		{"0 0 * * MONDAY", "", "field 5 (day of week)"},
		{"*/0 * * * *", "", "field 1 (minute)"},
		{"0 0 * *", "", "has 4 fields, want 5"},
		{"0 0 0 * * *", "", "has 6 fields, want 5"},
		{"", "", "empty expression"},
		{"@sometimes", "", "unknown shortcut"},
		{"@every 1.5s", "", "whole number of seconds"},
		{"@every 0s", "", "whole number of seconds"},
		{"@every soon", "", "whole number of seconds"},
		{"CRON_TZ=Europe/Paris 0 2 * * *", "", "time zone apart"},
		{"0 2 * * *", "Mars/Olympus", `time zone "Mars/Olympus"`},
		{"0 2 * * *", "Local", `time zone "Local"`},
	} {
		_, err := Parse(c.expr, c.tz)
		if err == nil || !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %q) = %v, want an ErrSpec saying %q", c.expr, c.tz, err, c.want)
		}
	}
}

func TestNextInTheTimeZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		expr, tz, after, want string
	}{
		{"0 2 * * *", "Europe/Paris", "2026-12-03T12:00:00Z", "2026-12-04T01:00:00Z"}, // 02:00 in Paris, winter
		{"0 2 * * *", "Europe/Paris", "2026-07-03T12:00:00Z", "2026-07-04T00:00:00Z"}, // summer
		{"0 2 * * *", "", "2026-12-03T12:00:00Z", "2026-12-04T02:00:00Z"},
		{"*/15 9-17 * * MON-FRI", "", "2026-12-04T17:50:00Z", "2026-12-07T09:00:00Z"}, // Friday evening to Monday
		{"@daily", "Europe/Paris", "2026-12-03T12:00:00Z", "2026-12-03T23:00:00Z"},
		{"@hourly", "", "2026-12-03T12:00:00Z", "2026-12-03T13:00:00Z"},
		{"@every 15m", "", "2026-12-03T12:07:31Z", "2026-12-03T12:15:00Z"},
		{"@every 15m", "", "2026-12-03T12:15:00Z", "2026-12-03T12:30:00Z"},
		{"@every 7s", "", "1970-01-01T00:00:00Z", "1970-01-01T00:00:07Z"},
	} {
		s, err := Parse(c.expr, c.tz)
		if err != nil {
			t.Fatalf("Parse(%q, %q): %v", c.expr, c.tz, err)
		}
		got := s.Next(at(c.after))
		if !got.Equal(at(c.want)) {
			t.Errorf("%q in %q: Next(%s) = %s, want %s", c.expr, c.tz, c.after, got.UTC().Format(time.RFC3339), c.want)
		}
		if want := s.Location().String(); got.Location().String() != want || c.tz == "Europe/Paris" && want != paris.String() {
			t.Errorf("%q in %q: Next in %v, want the schedule's zone", c.expr, c.tz, got.Location())
		}
	}
	// the day Paris skips 02:00 to 03:00: no tick is made twice or
	// backwards
	s, _ := Parse("30 2 * * *", "Europe/Paris")
	prev := at("2026-03-27T12:00:00Z")
	for range 5 {
		next := s.Next(prev)
		if !next.After(prev) {
			t.Fatalf("Next(%s) = %s, not after", prev, next)
		}
		prev = next
	}
}

func TestTickIDs(t *testing.T) {
	tick := time.Date(2026, 12, 3, 2, 0, 0, 0, time.FixedZone("CET", 3600))
	id := TickID("nightly-import", tick)
	if id != "nightly-import~20261203T010000Z" {
		t.Errorf("TickID = %q", id)
	}
	if !sig.ValidID(id) || sig.RootOf(id) != id {
		t.Errorf("TickID %q is not a flow id", id)
	}
	name, got, err := ParseTickID(id)
	if err != nil || name != "nightly-import" || !got.Equal(tick) {
		t.Errorf("ParseTickID(%q) = %q, %v, %v", id, name, got, err)
	}
	for _, bad := range []string{"nightly", "x~2026", "bad name~20261203T010000Z", "~20261203T010000Z"} {
		if _, _, err := ParseTickID(bad); err == nil {
			t.Errorf("ParseTickID(%q): no error", bad)
		}
	}
	for _, n := range []string{"", "a b", "a~b", "a.b", strings.Repeat("x", MaxName+1)} {
		if ValidName(n) {
			t.Errorf("ValidName(%q) = true", n)
		}
	}
}

func TestClockChangesAndRareTicks(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	count := func(expr, tz string, from, to time.Time) int {
		s, err := Parse(expr, tz)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		n := 0
		for tk := s.Next(from); !tk.IsZero() && !tk.After(to); tk = s.Next(tk) {
			n++
		}
		return n
	}
	// the clocks go back at 03:00 CEST on 2026-10-25: 02:00 to 03:00 shows twice
	day := time.Date(2026, 10, 25, 0, 0, 0, 0, paris)
	for _, c := range []struct {
		expr string
		want int
	}{
		{"0 2 * * *", 1}, {"30 2 * * *", 1}, {"@daily", 1},
		{"*/30 * * * *", 50}, // every half hour that passes: 25 hours that day
		{"@hourly", 25},
	} {
		if got := count(c.expr, "Europe/Paris", day.Add(-time.Second), day.AddDate(0, 0, 1).Add(-time.Second)); got != c.want {
			t.Errorf("%q on the day the clocks go back: %d ticks, want %d", c.expr, got, c.want)
		}
	}
	// 29 February: none from 2097 to 2103
	s, _ := Parse("0 0 29 2 *", "")
	if got := s.Next(time.Date(2097, 1, 1, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2104, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("29 February after 2097: %s, want 2104-02-29", got)
	}
	if d := s.Due(time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2098, 6, 1, 0, 0, 0, 0, time.UTC), Latest); len(d) != 0 {
		t.Errorf("Due in a year without 29 February: %v", d)
	}
	// a spec that never ticks is refused
	for _, expr := range []string{"0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"} {
		if _, err := Parse(expr, ""); err == nil || !strings.Contains(err.Error(), "never meet") {
			t.Errorf("Parse(%q) = %v, want a schedule without a tick refused", expr, err)
		}
	}
	// @every far from 1970
	e, _ := Parse("@every 1h", "")
	if got := e.Next(time.Date(2300, 1, 1, 0, 30, 0, 0, time.UTC)); !got.Equal(time.Date(2300, 1, 1, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("@every 1h after 2300-01-01 00:30: %s", got)
	}
	if _, _, err := ParseTickID("x~20261203T010000.5Z"); err == nil {
		t.Error("ParseTickID took a fraction of a second")
	}
}
