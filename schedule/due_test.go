package schedule

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var exprs = []string{"* * * * *", "*/5 * * * *", "0 * * * *", "0 2 * * *", "30 9 * * MON-FRI", "0 0 1 * *", "@hourly", "@daily", "@every 7s", "@every 90s", "@every 1h"}

var base = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

// ticks are the ticks of s after from and at or before to.
func ticks(s *Spec, from, to time.Time) []time.Time {
	var out []time.Time
	for t := s.Next(from); !t.After(to); t = s.Next(t) {
		out = append(out, t)
	}
	return out
}

// A worker that looks at least once a minute, keeping as last what it
// saw, starts every tick once, in order, under either policy.
func TestDueStartsEveryTickOnceWhenLookedAtInTime(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, err := Parse(rapid.SampledFrom(exprs).Draw(t, "expr"), rapid.SampledFrom([]string{"", "Europe/Paris", "America/New_York"}).Draw(t, "tz"))
		if err != nil {
			t.Fatal(err)
		}
		m := rapid.SampledFrom([]Missed{Skip, Latest}).Draw(t, "policy")
		start := base.Add(time.Duration(rapid.Int64Range(0, int64(366*24*time.Hour)).Draw(t, "start"))) // clock changes included
		last, now := start, start
		var started []time.Time
		for range rapid.IntRange(1, 300).Draw(t, "looks") {
			now = now.Add(time.Duration(rapid.Int64Range(1, int64(maxLate)).Draw(t, "gap")))
			due := s.Due(last, now, m)
			for _, tk := range due {
				if !tk.After(last) || tk.After(now) {
					t.Fatalf("Due(%s, %s) gave %s, outside", last, now, tk)
				}
			}
			started = append(started, due...)
			last = now
		}
		if want := ticks(s, start, now); !slices.EqualFunc(started, want, time.Time.Equal) {
			t.Fatalf("%s: started %d ticks, want the %d of (%s, %s]", s, len(started), len(want), start, now)
		}
	})
}

// After a time no worker looked, Skip starts none of the missed ticks
// and Latest the latest of them, once; both start what is on time.
func TestMissedTicks(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, err := Parse(rapid.SampledFrom(exprs).Draw(t, "expr"), rapid.SampledFrom([]string{"", "Europe/Paris", "America/New_York"}).Draw(t, "tz"))
		if err != nil {
			t.Fatal(err)
		}
		last := base.Add(time.Duration(rapid.Int64Range(0, int64(366*24*time.Hour)).Draw(t, "last")))
		now := last.Add(time.Duration(rapid.Int64Range(int64(2*maxLate), int64(90*24*time.Hour)).Draw(t, "down")))
		onTime := ticks(s, now.Add(-maxLate), now)
		missed := ticks(s, last, now.Add(-maxLate))
		skip := s.Due(last, now, Skip)
		if !slices.EqualFunc(skip, onTime, time.Time.Equal) {
			t.Fatalf("Skip: %v, want the on-time ticks %v", skip, onTime)
		}
		latest := s.Due(last, now, Latest)
		want := onTime
		if len(onTime) == 0 && len(missed) > 0 {
			want = missed[len(missed)-1:]
		}
		if !slices.EqualFunc(latest, want, time.Time.Equal) {
			t.Fatalf("Latest: %v, want %v (missed %d)", latest, want, len(missed))
		}
	})
}

func TestDueWithoutAPast(t *testing.T) {
	s, _ := Parse("* * * * *", "")
	if d := s.Due(time.Time{}, base, Latest); d != nil {
		t.Errorf("Due with no last tick = %v, want none (the schedule starts from now)", d)
	}
	if d := s.Due(base, base, Latest); d != nil {
		t.Errorf("Due at last = %v, want none", d)
	}
	if !Skip.Valid() || !Latest.Valid() || Missed("all").Valid() {
		t.Error("Valid")
	}
}
