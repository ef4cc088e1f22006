package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-api/api"
	"github.com/hatchet-dev/hatchet/cmd/hatchet-engine/engine"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
	"github.com/hatchet-dev/hatchet/pkg/config/server"
	"github.com/hatchet-dev/hatchet/pkg/encryption"
)

// version is the engine version reported to clients. The SDK treats anything
// below v0.80.0, or a pre-release string, as a legacy engine.
const version = "v0.104.7"

// engineConfig is what the configuration loader cannot know by itself: the
// ports, the keys and the log level of this instance.
type engineConfig struct {
	grpcPort      int
	apiPort       int
	logLevel      string
	logFormat     string
	masterKeyset  string
	privateJWT    string
	publicJWT     string
	cookieSecrets string
}

// newEngineConfig picks two free loopback ports and generates fresh keys.
func newEngineConfig(logLevel, logFormat string) (*engineConfig, error) {
	grpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	master, private, public, _, err := encryption.GenerateLocalKeys()
	if err != nil {
		return nil, fmt.Errorf("hatchet-dev: generate keys: %w", err)
	}
	secrets := make([]byte, 16)
	if _, err := rand.Read(secrets); err != nil {
		return nil, fmt.Errorf("hatchet-dev: generate cookie secrets: %w", err)
	}
	return &engineConfig{
		grpcPort:     grpcPort,
		apiPort:      apiPort,
		logLevel:     logLevel,
		logFormat:    logFormat,
		masterKeyset: string(master),
		privateJWT:   string(private),
		publicJWT:    string(public),
		// two 16-byte secrets (hash key, block key), separated by a space
		cookieSecrets: hex.EncodeToString(secrets[:8]) + " " + hex.EncodeToString(secrets[8:]),
	}, nil
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago. The
// engine binds it later, so another process could take it in between.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("hatchet-dev: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// grpcAddr is the host:port clients dial.
func (c *engineConfig) grpcAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.grpcPort))
}

// apiURL is the base URL of the REST API.
func (c *engineConfig) apiURL() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.apiPort))
}

// override applies the settings of this instance over whatever the
// environment and defaults gave.
func (c *engineConfig) override(scf *server.ServerConfigFile) {
	scf.Logger.Level, scf.Logger.Format = c.logLevel, c.logFormat
	scf.AdditionalLoggers.Queue.Level, scf.AdditionalLoggers.Queue.Format = c.logLevel, c.logFormat
	scf.AdditionalLoggers.PgxStats.Level, scf.AdditionalLoggers.PgxStats.Format = c.logLevel, c.logFormat

	scf.MessageQueue.Enabled = true
	scf.MessageQueue.Kind = "postgres"

	scf.Encryption.MasterKeyset = c.masterKeyset
	scf.Encryption.MasterKeysetFile = ""
	scf.Encryption.CloudKMS.Enabled = false
	scf.Encryption.JWT.PrivateJWTKeyset = c.privateJWT
	scf.Encryption.JWT.PrivateJWTKeysetFile = ""
	scf.Encryption.JWT.PublicJWTKeyset = c.publicJWT
	scf.Encryption.JWT.PublicJWTKeysetFile = ""

	scf.Auth.Cookie.Domain = "localhost"
	scf.Auth.Cookie.Secrets = c.cookieSecrets
	scf.Auth.Cookie.Insecure = true

	scf.Runtime.GRPCPort = c.grpcPort
	scf.Runtime.GRPCBindAddress = "127.0.0.1"
	scf.Runtime.GRPCBroadcastAddress = c.grpcAddr()
	scf.Runtime.GRPCInsecure = true
	scf.Runtime.GRPCShutdownTimeout = 2 * time.Second
	scf.Runtime.Port = c.apiPort
	scf.Runtime.ServerURL = c.apiURL()
	scf.Runtime.Healthcheck = false

	scf.SecurityCheck.Enabled = false
}

// runningEngine is the engine and the REST API, started in this process.
type runningEngine struct {
	cancel   context.CancelFunc
	apiStop  chan any
	closeAPI sync.Once
	wg       sync.WaitGroup
	once     sync.Once
	exited   chan struct{} // closed when the engine or the API returns
	exitErr  error         // why, readable once exited is closed
	errs     [2]error      // results of engine.Run and api.Start
}

// startEngine starts the engine and the REST API in goroutines and returns at
// once. Use ready to wait until they serve.
func startEngine(cf *loader.ConfigLoader, c *engineConfig) *runningEngine {
	ctx, cancel := context.WithCancel(context.Background())
	e := &runningEngine{cancel: cancel, apiStop: make(chan any), exited: make(chan struct{})}
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		e.errs[0] = engine.Run(ctx, cf, version, c.override)
		e.exit("engine", e.errs[0])
	}()
	go func() {
		defer e.wg.Done()
		e.errs[1] = api.Start(cf, e.apiStop, version, c.override)
		e.exit("REST API", e.errs[1])
	}()
	return e
}

// exit records the first of the two to return.
func (e *runningEngine) exit(what string, err error) {
	e.once.Do(func() {
		if err == nil {
			e.exitErr = fmt.Errorf("hatchet-dev: %s stopped", what)
		} else {
			e.exitErr = fmt.Errorf("hatchet-dev: %s stopped: %s", what, oneLine(err))
		}
		close(e.exited)
	})
}

// ready polls until the gRPC port accepts connections and the REST API
// answers GET /api/ready with 200, or fails after timeout or when the engine
// stops.
func (e *runningEngine) ready(ctx context.Context, c *engineConfig, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probe(ctx, client, c); last == nil {
			return nil
		}
		select {
		case <-e.exited:
			return e.exitErr
		case <-ctx.Done():
			return fmt.Errorf("hatchet-dev: engine not ready after %s: %v", timeout, oneLine(last))
		case <-tick.C:
		}
	}
}

// probe checks once that both ports serve.
func probe(ctx context.Context, client *http.Client, c *engineConfig) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.grpcAddr())
	if err != nil {
		return fmt.Errorf("gRPC %s: %w", c.grpcAddr(), err)
	}
	_ = conn.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL()+"/api/ready", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("REST API: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("REST API: GET /api/ready: %s", resp.Status)
	}
	return nil
}

// abandon asks the engine and the API to stop without waiting for them.
func (e *runningEngine) abandon() {
	e.cancel()
	e.closeAPI.Do(func() { close(e.apiStop) })
}

// stop shuts the engine and the API down, waiting at most timeout.
func (e *runningEngine) stop(timeout time.Duration) error {
	e.abandon()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case <-done:
	case <-deadline.C:
		return fmt.Errorf("hatchet-dev: engine did not stop within %s", timeout)
	}
	if err := errors.Join(e.errs[0], e.errs[1]); err != nil {
		return fmt.Errorf("hatchet-dev: stop engine: %w", err)
	}
	return nil
}
