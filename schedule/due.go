package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Missed is what a schedule does with the ticks that passed while no
// worker was up to start them.
type Missed string

const (
	// Skip starts no missed tick: the schedule goes on with the next one.
	Skip Missed = "skip"
	// Latest starts the latest missed tick once (a nightly job that did
	// not run because every worker was down runs when one comes back),
	// and skips the ones before it.
	Latest Missed = "latest"
)

// Valid reports whether m is a policy.
func (m Missed) Valid() bool { return m == Skip || m == Latest }

// maxLate is how late a tick may be started and still count as on time:
// a worker that looks every few seconds starts the ticks of the last
// minute; older ones are missed.
const maxLate = time.Minute

// Due returns the ticks to start at now, oldest first, for a schedule
// whose ticks up to last were seen (zero: none yet; the schedule then
// starts from now, missing nothing), under policy m: every tick after last
// of the minute before now, and, with Latest, the latest of the older ones
// when none is that recent. It never returns more than a tick per
// second of the minute before now, and one missed tick at most.
func (s *Spec) Due(last, now time.Time, m Missed) []time.Time {
	if last.IsZero() || !now.After(last) {
		return nil
	}
	onTime := now.Add(-maxLate)
	var due []time.Time
	var missed time.Time
	// the ticks of more than a minute ago are not walked one by one: a
	// schedule of every second down for a month would be millions
	from := last
	if from.Before(onTime) {
		if m == Latest {
			missed = s.latest(last, onTime)
		}
		from = onTime
	}
	for t := s.Next(from); !t.IsZero() && !t.After(now); t = s.Next(t) {
		due = append(due, t)
	}
	if len(due) == 0 && !missed.IsZero() {
		due = append(due, missed)
	}
	return due
}

// latest returns the latest tick after from and at or before to, zero
// for none.
func (s *Spec) latest(from, to time.Time) time.Time {
	if s.every > 0 {
		t := s.Next(to.Add(-s.every))
		if t.After(to) || !t.After(from) {
			return time.Time{}
		}
		return t
	}
	// look back from to in widening windows for the last tick
	for back := time.Hour; ; back *= 4 {
		start := to.Add(-back)
		if !start.After(from) {
			start = from
		}
		var found time.Time
		for t := s.Next(start); !t.IsZero() && !t.After(to); t = s.Next(t) {
			found = t
		}
		if !found.IsZero() || start.Equal(from) {
			return found
		}
	}
}

// MaxName is the most bytes of a schedule's name.
const MaxName = 160

// ValidName reports whether name can name a schedule: 1 to MaxName
// letters, digits, '-' and '_' (a tick's flow id is made of it).
func ValidName(name string) bool {
	if name == "" || len(name) > MaxName {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// tickLayout is the tick's time in a flow id: UTC, to the second.
const tickLayout = "20060102T150405Z"

// TickID returns the id of the flow that schedule name starts at tick:
// "name~20261203T020000Z", the tick in UTC to the second. It is a valid
// flow id (flow.WithID) for a valid name.
func TickID(name string, tick time.Time) string {
	return name + "~" + tick.UTC().Format(tickLayout)
}

// ParseTickID returns the schedule name and the tick of a TickID.
func ParseTickID(id string) (name string, tick time.Time, err error) {
	i := strings.LastIndexByte(id, '~')
	if i < 0 {
		return "", time.Time{}, fmt.Errorf("schedule: %q is not a tick's flow id", id)
	}
	tick, err = time.Parse(tickLayout, id[i+1:])
	if err != nil || !ValidName(id[:i]) || TickID(id[:i], tick) != id {
		return "", time.Time{}, fmt.Errorf("schedule: %q is not a tick's flow id", id)
	}
	return id[:i], tick, nil
}
