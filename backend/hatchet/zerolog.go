package hatchet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"

	"github.com/rs/zerolog"
)

// Zerolog returns a zerolog logger, as the Hatchet SDK takes one
// (v0client.WithLogger for NewClient; the backend's worker gets one made
// from WithLogger's logger), that writes each event to l: at the event's
// level, with its message and its fields as attributes (an "error" field
// as the error). It drops, unformatted, the events below the lowest
// level l is enabled for; with a nil l it drops every event.
func Zerolog(l *slog.Logger) *zerolog.Logger {
	if l == nil {
		z := zerolog.Nop()
		return &z
	}
	z := zerolog.New(slogWriter{l}).Level(lowestLevel(l)).With().Timestamp().Logger()
	return &z
}

// lowestLevel is the zerolog level of the lowest slog level l is enabled
// for (zerolog.Disabled for none).
func lowestLevel(l *slog.Logger) zerolog.Level {
	ctx := context.Background()
	for _, lv := range []struct {
		s slog.Level
		z zerolog.Level
	}{{slog.LevelDebug, zerolog.DebugLevel}, {slog.LevelInfo, zerolog.InfoLevel}, {slog.LevelWarn, zerolog.WarnLevel}, {slog.LevelError, zerolog.ErrorLevel}} {
		if l.Enabled(ctx, lv.s) {
			return lv.z
		}
	}
	return zerolog.Disabled
}

// slogWriter writes zerolog's JSON events to a slog logger.
type slogWriter struct{ l *slog.Logger }

// Write implements io.Writer for events without a level.
func (w slogWriter) Write(p []byte) (int, error) { return w.WriteLevel(zerolog.NoLevel, p) }

// WriteLevel implements zerolog.LevelWriter.
func (w slogWriter) WriteLevel(lv zerolog.Level, p []byte) (int, error) {
	var ev map[string]any
	if err := json.Unmarshal(p, &ev); err != nil {
		w.l.Warn("hatchet: "+string(p), slog.String("decode", err.Error()))
		return len(p), nil
	}
	msg, _ := ev[zerolog.MessageFieldName].(string)
	delete(ev, zerolog.MessageFieldName)
	delete(ev, zerolog.LevelFieldName)
	delete(ev, zerolog.TimestampFieldName)
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys)+1)
	for _, k := range keys {
		if k == zerolog.ErrorFieldName {
			attrs = append(attrs, slog.Any("error", fmt.Errorf("%v", ev[k])))
			continue
		}
		attrs = append(attrs, slog.Any(k, ev[k]))
	}
	level := slog.LevelInfo
	switch lv {
	case zerolog.TraceLevel, zerolog.DebugLevel:
		level = slog.LevelDebug
	case zerolog.WarnLevel:
		level = slog.LevelWarn
	case zerolog.ErrorLevel, zerolog.FatalLevel, zerolog.PanicLevel:
		level = slog.LevelError
	}
	w.l.LogAttrs(context.Background(), level, "hatchet: "+msg, attrs...)
	return len(p), nil
}
