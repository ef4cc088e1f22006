package chaos

import (
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/sig"
)

// The audit's checks, on made-up execution logs: each violation it exists
// to find is found.
func TestAuditFindsViolations(t *testing.T) {
	flows := []expectation{{root: "A", in: 1, ok: true, out: 10}, {root: "B", in: 2, ok: false}}
	cases := []struct {
		name   string
		flows  []expectation // default: flows
		execs  []Exec
		killed []string
		check  func(*Result) int
		want   int
		fine   bool // what is counted is no violation
	}{
		{
			name: "callbacks once each",
			execs: []Exec{
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 10},
				{Task: NameFailed, Record: "B.e0", Root: "B", Worker: "w2", Value: 2},
			},
			check: func(r *Result) int { return r.CallbackDups + r.CallbackMissing + r.Duplicates },
			want:  0,
		},
		{
			name: "a callback fired twice",
			execs: []Exec{
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 10},
				{Task: NameDone, Record: "A.s1", Root: "A", Worker: "w1", Value: 10},
				{Task: NameFailed, Record: "B.e0", Root: "B", Worker: "w2", Value: 2},
			},
			check: func(r *Result) int { return r.CallbackDups },
			want:  1,
		},
		{
			name: "a callback never fired",
			execs: []Exec{
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 10},
			},
			check: func(r *Result) int { return r.CallbackMissing },
			want:  1,
		},
		{
			name: "the wrong callback, or a wrong value",
			execs: []Exec{
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 11},
				{Task: NameDone, Record: "B.s0", Root: "B", Worker: "w1", Value: 2},
			},
			check: func(r *Result) int { return r.CallbackDups },
			want:  2,
		},
		{
			name: "a record run again on a live worker",
			execs: []Exec{
				{Task: NameStep, Record: "A.0", Root: "A", Worker: "w1"},
				{Task: NameStep, Record: "A.0", Root: "A", Worker: "w2"},
			},
			check: func(r *Result) int { return r.Duplicates },
			want:  1,
		},
		{
			name:  "a record run again after its worker was killed",
			flows: []expectation{{root: "A", in: 1, ok: true, out: 10}},
			execs: []Exec{
				{Task: NameStep, Record: "A.0", Root: "A", Worker: "w1"},
				{Task: NameStep, Record: "A.0", Root: "A", Worker: "w2"},
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w2", Value: 10},
			},
			killed: []string{"w1"},
			check:  func(r *Result) int { return r.Duplicates*100 + r.RerunsAfterKills },
			want:   1,
			fine:   true,
		},
		{
			name:  "a record run again after Interrupt",
			flows: []expectation{{root: "A", in: 1, ok: true, out: 10, interrupted: true}},
			execs: []Exec{
				{Task: NameStep, Record: "A.0", Root: "A", Worker: "w1"},
				{Task: NameStep, Record: "A.0", Root: "A", Worker: "w1"},
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 10},
			},
			check: func(r *Result) int { return r.Duplicates*100 + r.RerunsAfterPause },
			want:  1,
			fine:  true,
		},
		{
			name:  "a canceled flow's callback run as the cancel struck, or not at all",
			flows: []expectation{{root: "A", in: 1, ok: true, out: 10, canceled: true}, {root: "B", in: 2, canceled: true}},
			execs: []Exec{
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 10},
			},
			check: func(r *Result) int { return r.CallbackDups*100 + r.CallbackMissing*10 + r.CanceledMidRun },
			want:  1,
			fine:  true,
		},
		{
			name:  "a canceled flow's callback run twice",
			flows: []expectation{{root: "A", in: 1, ok: true, out: 10, canceled: true}},
			execs: []Exec{
				{Task: NameDone, Record: "A.s0", Root: "A", Worker: "w1", Value: 10},
				{Task: NameDone, Record: "A.s1", Root: "A", Worker: "w1", Value: 10},
			},
			check: func(r *Result) int { return r.CallbackDups },
			want:  1,
		},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			fs := c.flows
			if fs == nil {
				fs = flows
			}
			r := &run{flows: fs, fleet: &fleet{killed: map[string]bool{}}}
			for _, w := range c.killed {
				r.fleet.killed[w] = true
			}
			res := &Result{}
			r.checkExecutions(res, c.execs)
			r.checkCallbacks(res, c.execs)
			if got := c.check(res); got != c.want {
				t.Errorf("got %d, want %d; %s; problems: %q", got, c.want, res, res.Problems)
			}
			if c.want > 0 && res.OK() == !c.fine {
				t.Errorf("OK() = %v", res.OK())
			}
		})
	}
}

func TestExecLineRoundTrip(t *testing.T) {
	e := Exec{Task: NameItem, Record: "01ABC.0.7", Root: "01ABC", Attempt: 2, Worker: "w3", Value: -5}
	got, err := ParseExec(e.String())
	if err != nil || got != e {
		t.Fatalf("ParseExec(%q) = %+v, %v", e.String(), got, err)
	}
	if _, err := ParseExec("chaos-step x"); err == nil {
		t.Error("a short line parsed")
	}
}

// A flow Cancel took ends canceled, or keeps the outcome its body had
// before the cancel stopped its callbacks; anything else is wrong.
func TestOutcomeOfACanceledFlow(t *testing.T) {
	f := expectation{root: "A", in: 1, ok: true, out: 10, canceled: true}
	for _, c := range []struct {
		rec  sig.Record
		want bool // ok
	}{
		{sig.Record{Status: sig.Canceled}, true},
		{sig.Record{Status: sig.Done, Result: []byte("10")}, true},
		{sig.Record{Status: sig.Done, Result: []byte("11")}, false},
		{sig.Record{Status: sig.Failed, Error: &sig.ErrorInfo{Task: NameBoom}}, false},
	} {
		if got := outcome(&c.rec, f) == ""; got != c.want {
			t.Errorf("outcome(%s %s) ok = %v, want %v", c.rec.Status, c.rec.Result, got, c.want)
		}
	}
}
