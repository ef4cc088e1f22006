package redistest

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// Counter is a go-redis hook that counts round trips and commands, for
// the tests that bound what an operation costs.
type Counter struct {
	mu          sync.Mutex
	trips, cmds int
	names       []string
}

// DialHook passes dials through.
func (c *Counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

// ProcessHook counts a command as a round trip.
func (c *Counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.mu.Lock()
		c.trips++
		c.cmds++
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts a pipeline as one round trip of its
// commands.
func (c *Counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.mu.Lock()
		c.trips++
		c.cmds += len(cmds)
		for _, cmd := range cmds {
			c.names = append(c.names, cmd.Name())
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// Measure returns the round trips and commands (and their names) fn
// made.
func (c *Counter) Measure(fn func()) (trips, cmds int, names []string) {
	c.mu.Lock()
	c.trips, c.cmds, c.names = 0, 0, nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trips, c.cmds, c.names
}
