package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// selfCheckName names the task and the worker of the self-check. Both stay
// visible in the tenant afterwards (the worker as inactive).
const selfCheckName = "hatchet-dev-selfcheck"

type selfCheckInput struct {
	Nonce string `json:"nonce"`
}

type selfCheckOutput struct {
	Nonce string `json:"nonce"`
}

// selfCheck proves end to end that a client configured only by settings can
// register a task, start a worker, run the task and read its result. It sets
// settings in this process's environment, as a user's program would have them.
func selfCheck(ctx context.Context, settings []setting, logger *zerolog.Logger, timeout time.Duration) (err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil { // the SDK panics on a bad configuration
			err = fmt.Errorf("hatchet-dev: self-check: panic: %v", r)
		}
	}()

	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "HATCHET_CLIENT_") {
			_ = os.Unsetenv(k)
		}
	}
	for _, s := range settings {
		if strings.HasPrefix(s.key, "HATCHET_CLIENT_") {
			_ = os.Setenv(s.key, s.value)
		}
	}
	_ = os.Setenv("HATCHET_CLIENT_LOG_LEVEL", logger.GetLevel().String())

	t0 := time.Now()
	lap := func(what string) { logger.Debug().Dur("at", time.Since(t0)).Msg("self-check: " + what) }
	defer lap("done")
	c, err := hatchet.NewClient()
	if err != nil {
		return fmt.Errorf("hatchet-dev: self-check: new client: %w", err)
	}
	task := c.NewStandaloneTask(selfCheckName, func(_ hatchet.Context, in selfCheckInput) (selfCheckOutput, error) {
		return selfCheckOutput(in), nil
	})
	w, err := c.NewWorker(selfCheckName, hatchet.WithWorkflows(task), hatchet.WithSlots(1), hatchet.WithLogger(logger))
	if err != nil {
		return fmt.Errorf("hatchet-dev: self-check: new worker: %w", err)
	}
	lap("worker created")
	stop, err := w.Start()
	if err != nil {
		return fmt.Errorf("hatchet-dev: self-check: start worker: %w", err)
	}
	defer func() { _ = stop() }()

	lap("worker started")
	nonce := randomDatabaseName()
	ref, err := task.RunNoWait(ctx, selfCheckInput{Nonce: nonce})
	if err != nil {
		return fmt.Errorf("hatchet-dev: self-check: run: %w", err)
	}
	lap("run triggered")
	type result struct {
		res *hatchet.WorkflowResult
		err error
	}
	results := make(chan result, 1)
	go func() { // Result ignores contexts
		res, err := ref.Result()
		results <- result{res, err}
	}()
	select {
	case <-ctx.Done():
		return fmt.Errorf("hatchet-dev: self-check: no result within %s", timeout)
	case r := <-results:
		if r.err != nil {
			return fmt.Errorf("hatchet-dev: self-check: result: %w", r.err)
		}
		var out selfCheckOutput
		if err := r.res.TaskOutput(selfCheckName).Into(&out); err != nil {
			return fmt.Errorf("hatchet-dev: self-check: decode result: %w", err)
		}
		if out.Nonce != nonce {
			return fmt.Errorf("hatchet-dev: self-check: got %q, want %q", out.Nonce, nonce)
		}
		return nil
	}
}
