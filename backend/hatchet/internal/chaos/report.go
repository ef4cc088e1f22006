package chaos

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// tally adds up the results of each scenario's runs.
var tally struct {
	mu    sync.Mutex
	order []string
	by    map[string]*total
	start time.Time
}

type total struct {
	runs, failed int
	sum          Result
	longest      time.Duration
}

func record(scenario string, res *Result) {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	if tally.by == nil {
		tally.by = map[string]*total{}
	}
	tt := tally.by[scenario]
	if tt == nil {
		tt = &total{}
		tally.by[scenario] = tt
		tally.order = append(tally.order, scenario)
	}
	tt.runs++
	if !res.OK() {
		tt.failed++
	}
	s := &tt.sum
	s.Flows += res.Flows
	s.Completed += res.Completed
	s.Lost += res.Lost
	s.Stuck += res.Stuck
	s.Wrong += res.Wrong
	s.Faults += res.Faults
	s.Hit += res.Hit
	s.Redelivered += res.Redelivered
	s.Callbacks += res.Callbacks
	s.CallbackDups += res.CallbackDups
	s.CallbackMissing += res.CallbackMissing
	s.Executions += res.Executions
	s.RerunsAfterKills += res.RerunsAfterKills
	s.RerunsAfterPause += res.RerunsAfterPause
	s.CanceledMidRun += res.CanceledMidRun
	s.Duplicates += res.Duplicates
	s.NoTTL += res.NoTTL
	s.WorkerExits += res.WorkerExits
	s.Elapsed += res.Elapsed
	tt.longest = max(tt.longest, res.Elapsed)
}

// writeReport writes the tally as a Markdown table to path.
func writeReport(path string, cfg config) error {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "Chaos suite, %s; %s, %d CPUs; CHAOS_RUNS=%d CHAOS_PARALLEL=%d CHAOS_FLOWS=%d CHAOS_SWARM=%d, first seed %d.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.NumCPU(), cfg.runs, cfg.parallel, cfg.flows, cfg.swarm, cfg.seed)
	b.WriteString("| Scenario | runs | failed runs | faults | flows running when hit | flows | completed right | lost | stuck | wrong | callbacks fired | duplicate callbacks | missing callbacks | task executions | reruns after kills | tasks claimed again | unexplained reruns | keys without TTL | longest run | reruns after interrupts | callbacks canceled as they ran |\n")
	b.WriteString("| --- |" + strings.Repeat(" ---: |", 20) + "\n")
	names := append([]string(nil), tally.order...)
	sort.Strings(names)
	for _, n := range names {
		tt := tally.by[n]
		s := tt.sum
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %v | %d | %d |\n",
			n, tt.runs, tt.failed, s.Faults, s.Hit, s.Flows, s.Completed, s.Lost, s.Stuck, s.Wrong, s.Callbacks, s.CallbackDups, s.CallbackMissing,
			s.Executions, s.RerunsAfterKills, s.Redelivered, s.Duplicates, s.NoTTL, tt.longest.Round(time.Second), s.RerunsAfterPause, s.CanceledMidRun)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
