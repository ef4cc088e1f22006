package inspect

import (
	"fmt"
	"time"
)

// ParseWhen reads a bound of a listing's time range as the tools take it:
// a positive duration back from now ("1h", "90m") or an RFC 3339 time.
func ParseWhen(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("inspect: time %q: want a duration back from now (1h) or an RFC 3339 time", v)
}
