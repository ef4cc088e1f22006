package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-migrate/migrate"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
)

// dev is one run of the engine.
type dev struct {
	o          options
	level      zerolog.Level
	format     string // of the engine's logs: console or json
	logger     *zerolog.Logger
	configDir  string
	admin      *admin // nil until Postgres is reached
	prepared   bool   // the database exists and is ours to use (and to drop)
	created    bool   // the database was created by this run
	ready      bool   // the settings were printed
	envWritten bool
	eng        *runningEngine
	settings   []setting
}

// start prepares the database and starts the engine, returning once it
// serves (and, with -selfcheck, has run a task).
func (d *dev) start(ctx context.Context) error {
	dbURL, err := databaseURL(d.o.postgres, d.o.db)
	if err != nil {
		return err
	}
	if d.admin, err = openAdmin(ctx, d.o.postgres); err != nil {
		return err
	}
	if d.created, err = d.admin.prepare(ctx, d.o.db, d.o.reuse); err != nil {
		return err
	}
	d.prepared = true
	// The loader reads these; the rest of its configuration comes from the
	// override in engine.go. Variables that would point the engine at
	// another database are removed.
	for _, k := range []string{"DATABASE_PGBOUNCER_URL", "READ_REPLICA_ENABLED", "READ_REPLICA_DATABASE_URL"} {
		_ = os.Unsetenv(k)
	}
	_ = os.Setenv("DATABASE_URL", dbURL)
	_ = os.Setenv("DATABASE_LOGGER_LEVEL", d.level.String())
	_ = os.Setenv("DATABASE_LOGGER_FORMAT", d.format)
	_ = os.Setenv("DEFAULT_TENANT_ID", tenantID)
	// Hatchet's pools may each grow to 50 connections, and the engine and the
	// API have their own: cap them, so that a few engines fit in a default
	// Postgres (max_connections 100).
	if os.Getenv("DATABASE_MAX_CONNS") == "" {
		_ = os.Setenv("DATABASE_MAX_CONNS", "16")
	}

	// An empty configuration directory, so that no server.yaml or
	// database.yaml in the working directory is read.
	if d.configDir, err = os.MkdirTemp("", "hatchet-dev-config-"); err != nil {
		return fmt.Errorf("hatchet-dev: %w", err)
	}
	cf := loader.NewConfigLoader(d.configDir)

	t := time.Now()
	if d.created {
		if err := migrate.RunMigrations(ctx); err != nil {
			return fmt.Errorf("hatchet-dev: migrate %s: %w", d.o.db, err)
		}
		d.logger.Info().Dur("took", time.Since(t)).Msg("migrated")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ec, err := newEngineConfig(d.level.String(), d.format)
	if err != nil {
		return err
	}
	t = time.Now()
	token, err := seedAndMintToken(ctx, cf, ec)
	if err != nil {
		return err
	}
	d.logger.Info().Dur("took", time.Since(t)).Msg("seeded, token minted")
	t = time.Now()
	d.eng = startEngine(cf, ec)
	if err := d.eng.ready(ctx, ec, readyTimeout); err != nil {
		return err
	}
	d.logger.Info().Dur("took", time.Since(t)).Msg("engine and API serving")
	d.settings = []setting{
		{"HATCHET_CLIENT_TOKEN", token},
		{"HATCHET_CLIENT_HOST_PORT", ec.grpcAddr()},
		{"HATCHET_CLIENT_SERVER_URL", ec.apiURL()},
		{"HATCHET_CLIENT_TLS_STRATEGY", "none"},
		{"HATCHET_CLIENT_TENANT_ID", tenantID},
		{"MAGEFLOW_HATCHET_DATABASE", d.o.db},
	}
	if d.o.selfCheck {
		t = time.Now()
		if err := selfCheck(ctx, d.settings, d.logger, selfCheckTimeout); err != nil {
			return err
		}
		d.logger.Info().Dur("took", time.Since(t)).Msg("self-check passed")
	}
	return nil
}

// announce writes the settings to the env file, if any, then to w followed
// by READY.
func (d *dev) announce(w *os.File) error {
	var b strings.Builder
	for _, s := range d.settings {
		fmt.Fprintf(&b, "%s=%s\n", s.key, s.value)
	}
	if d.o.envFile != "" {
		if err := writeFileAtomic(d.o.envFile, []byte(b.String())); err != nil {
			return err
		}
		d.envWritten = true
	}
	b.WriteString("READY\n")
	// One write on an unbuffered file: nothing is left to flush (and Sync
	// fails on pipes).
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("hatchet-dev: write settings: %w", err)
	}
	d.ready = true
	return nil
}

// stop stops the engine, removes the env file and the configuration
// directory, and drops the database if drop says so. A graceful stop of the
// engine takes over 5 s (Hatchet waits out a heartbeat period), which is only
// worth it when the database is kept: before a drop, the engine is only told
// to stop, and the drop cuts its connections.
func (d *dev) stop(drop func() bool) error {
	var errs []error
	if d.eng != nil {
		if drop() {
			zerolog.SetGlobalLevel(zerolog.Disabled) // the drop makes it complain
			d.eng.abandon()
		} else if err := d.eng.stop(stopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	if d.envWritten {
		_ = os.Remove(d.o.envFile)
	}
	if d.configDir != "" {
		_ = os.RemoveAll(d.configDir)
	}
	if d.admin != nil {
		if drop() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := d.admin.drop(ctx, d.o.db); err != nil {
				errs = append(errs, err)
			}
		}
		d.admin.close()
	}
	return errors.Join(errs...)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that readers never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".hatchet-dev-env-")
	if err != nil {
		return fmt.Errorf("hatchet-dev: env file: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("hatchet-dev: env file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("hatchet-dev: env file: %w", err)
	}
	return nil
}
