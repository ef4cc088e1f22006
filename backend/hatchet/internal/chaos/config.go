package chaos

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// envMu guards the process environment, where the Hatchet SDK reads its
// settings.
var envMu sync.Mutex

// config is the size of a suite run, from the environment.
type config struct {
	runs     int    // CHAOS_RUNS: runs per scenario
	parallel int    // CHAOS_PARALLEL: runs of a scenario at once (not the engine restart's)
	flows    int    // CHAOS_FLOWS: flows per run
	swarm    int    // CHAOS_SWARM: items of the wide swarm
	seed     uint64 // CHAOS_SEED: the first run's seed (default: the clock)
	report   string // CHAOS_REPORT: where to write the figures
}

func loadConfig() (config, error) {
	c := config{runs: 1, parallel: 1, flows: 8, swarm: 1000, seed: uint64(time.Now().UnixNano()), report: os.Getenv("CHAOS_REPORT")}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"CHAOS_RUNS", &c.runs}, {"CHAOS_PARALLEL", &c.parallel}, {"CHAOS_FLOWS", &c.flows}, {"CHAOS_SWARM", &c.swarm}} {
		s := os.Getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s=%q: want a positive integer", v.name, s)
		}
		*v.dst = n
	}
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return c, fmt.Errorf("CHAOS_SEED=%q: %v", s, err)
		}
		c.seed = n
	}
	return c, nil
}
