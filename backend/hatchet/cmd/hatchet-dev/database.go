package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// errUnreachable marks a failure to reach the Postgres server named by
// -postgres; main turns it into exit code 2.
var errUnreachable = errors.New("postgres unreachable")

// validName restricts database names to what needs no quoting and fits the
// 63-byte limit of Postgres identifiers.
var validName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// randomDatabaseName returns mageflow_hatchet_ followed by 12 random hex digits.
func randomDatabaseName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return "mageflow_hatchet_" + hex.EncodeToString(b)
}

// redact returns rawURL with any password masked, for messages.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return "(a connection string that is not a URL)"
	}
	return u.Redacted()
}

// databaseURL returns adminURL with its database replaced by name. Only URLs
// (postgres://...) are accepted, not key=value connection strings.
func databaseURL(adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("hatchet-dev: -postgres must be a postgres:// URL, not %s", redact(adminURL))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// connect opens one connection to rawURL, failing within timeout. A failure
// wraps errUnreachable.
func connect(ctx context.Context, rawURL string, timeout time.Duration) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("hatchet-dev: %w at %s: %v", errUnreachable, redact(rawURL), oneLine(err))
	}
	return conn, nil
}

// admin is a connection to the server's maintenance database, opened at
// start and kept, so that the database can be dropped at exit even when the
// server has no connection slot left.
type admin struct {
	url  string
	conn *pgx.Conn
}

// openAdmin connects to the server at adminURL.
func openAdmin(ctx context.Context, adminURL string) (*admin, error) {
	conn, err := connect(ctx, adminURL, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &admin{url: adminURL, conn: conn}, nil
}

// close closes the connection.
func (a *admin) close() {
	_ = a.conn.Close(context.Background())
}

// prepare makes sure database name exists. It creates it when missing. When
// it exists, reuse must be set, and it must hold a Hatchet schema. It reports
// whether the database was created.
func (a *admin) prepare(ctx context.Context, name string, reuse bool) (created bool, err error) {
	var exists bool
	err = a.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("hatchet-dev: look up database %s: %w", name, err)
	}
	if exists {
		if !reuse {
			return false, fmt.Errorf("hatchet-dev: database %s already exists; pass -reuse to use it as it is, or choose another -db", name)
		}
		dbURL, err := databaseURL(a.url, name)
		if err != nil {
			return false, err
		}
		if err := checkSchema(ctx, dbURL, name); err != nil {
			return false, err
		}
		return false, nil
	}
	if _, err := a.conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return false, fmt.Errorf("hatchet-dev: create database %s: %w", name, err)
	}
	return true, nil
}

// checkSchema fails unless the database at dbURL has been migrated by Hatchet.
func checkSchema(ctx context.Context, dbURL, name string) error {
	conn, err := connect(ctx, dbURL, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var migrated bool
	err = conn.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&migrated)
	if err != nil {
		return fmt.Errorf("hatchet-dev: inspect database %s: %w", name, err)
	}
	if !migrated {
		return fmt.Errorf("hatchet-dev: database %s exists but holds no Hatchet schema; drop it or choose another -db", name)
	}
	return nil
}

// drop drops database name, cutting any connections still open to it. If
// the kept connection was lost, it connects again.
func (a *admin) drop(ctx context.Context, name string) error {
	err := dropWith(ctx, a.conn, name)
	if err != nil && a.conn.IsClosed() {
		conn, cerr := connect(ctx, a.url, 5*time.Second)
		if cerr != nil {
			return fmt.Errorf("hatchet-dev: drop database %s: %w", name, cerr)
		}
		a.conn = conn
		err = dropWith(ctx, conn, name)
	}
	return err
}

func dropWith(ctx context.Context, conn *pgx.Conn, name string) error {
	ident := pgx.Identifier{name}.Sanitize()
	// Refuse new connections first, so that pools still running cannot
	// reconnect between FORCE's terminations and the drop.
	_, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS false")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name: already gone
		return nil
	}
	if err != nil {
		return fmt.Errorf("hatchet-dev: drop database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("hatchet-dev: drop database %s: %w", name, err)
	}
	return nil
}

// oneLine flattens err's message onto one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
