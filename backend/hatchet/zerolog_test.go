package hatchet_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/flowsuite"
)

// records is a slog handler that keeps what it is given, from level on.
type records struct {
	level slog.Level
	mu    sync.Mutex
	got   []slog.Record
}

func (h *records) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// The SDK's zerolog events reach a slog logger at their level, with
// their fields; those below the logger's level are dropped.
func TestZerologWritesToSlog(t *testing.T) {
	h := &records{level: slog.LevelInfo}
	z := hatchetbackend.Zerolog(slog.New(h))
	z.Debug().Msg("dropped")
	z.Info().Str("worker", "w-1").Int("slots", 4).Msg("worker started")
	z.Error().Err(errors.New("stream closed")).Msg("listener")
	if len(h.got) != 2 {
		t.Fatalf("%d records, want 2 (the debug event dropped): %v", len(h.got), h.got)
	}
	attrs := func(r slog.Record) map[string]string {
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		return m
	}
	if r := h.got[0]; r.Level != slog.LevelInfo || r.Message != "hatchet: worker started" || attrs(r)["worker"] != "w-1" || attrs(r)["slots"] != "4" {
		t.Errorf("info event: %v %q %v", r.Level, r.Message, attrs(r))
	}
	if r := h.got[1]; r.Level != slog.LevelError || r.Message != "hatchet: listener" || attrs(r)["error"] != "stream closed" {
		t.Errorf("error event: %v %q %v", r.Level, r.Message, attrs(r))
	}
	quiet := hatchetbackend.Zerolog(nil)
	quiet.Error().Msg("nowhere") // a nil logger drops everything
}

// The Hatchet SDK's worker logs to the backend's logger (WithLogger), at
// its level, on a real engine.
func TestSDKLogsReachTheLogger(t *testing.T) {
	h := &records{level: slog.LevelDebug}
	b := newBackendWith(t, hatchetbackend.WithLogger(slog.New(h)))
	name := "logged-" + t.Name()
	if err := b.Register(backend.TaskSpec{Name: name}, func(ctx context.Context, d backend.Delivery) error { return nil }); err != nil {
		t.Fatal(err)
	}
	stop, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	flowsuite.Eventually(t, "the SDK's worker logs through the backend's logger", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, r := range h.got {
			if strings.HasPrefix(r.Message, "hatchet: worker ") && strings.Contains(r.Message, "is listening for actions") && r.Level == slog.LevelDebug {
				return true
			}
		}
		return false
	})
}
