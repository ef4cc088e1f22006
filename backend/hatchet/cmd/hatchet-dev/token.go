package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-admin/cli/seed"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
	"github.com/hatchet-dev/hatchet/pkg/config/server"
)

// tenantID is the default tenant the seed creates.
const tenantID = "707d0855-80ab-4e1f-a156-f1c4546cbf52"

// tokenLifetime is how long a minted token stays valid. A token is only good
// for the process that minted it anyway: the next start has new keys.
const tokenLifetime = 30 * 24 * time.Hour

// seedAndMintToken seeds the database (the default tenant and an admin user,
// unless they exist), then creates an API token for the default tenant, signed
// with the keys of c and naming c's ports in its claims.
func seedAndMintToken(ctx context.Context, cf *loader.ConfigLoader, c *engineConfig) (string, error) {
	cleanup, sc, err := cf.CreateServerFromConfig(version, c.override, func(scf *server.ServerConfigFile) {
		scf.MessageQueue.Enabled = false // not needed to sign a token
	})
	if err != nil {
		return "", fmt.Errorf("hatchet-dev: load server config: %w", err)
	}
	defer func() {
		_ = cleanup()
		_ = sc.Disconnect()
		sc.Pool.Close()
		sc.DDLPool.Close()
	}()
	if err := seed.SeedDatabase(sc.Layer); err != nil {
		return "", fmt.Errorf("hatchet-dev: seed: %w", err)
	}
	expires := time.Now().Add(tokenLifetime)
	tok, err := sc.Auth.JWTManager.GenerateTenantToken(ctx, uuid.MustParse(tenantID), "hatchet-dev", false, &expires)
	if err != nil {
		return "", fmt.Errorf("hatchet-dev: mint token: %w", err)
	}
	return tok.Token, nil
}
