package hatchet

import (
	_ "github.com/hatchet-dev/hatchet/cmd/hatchet-admin/cli/seed"
	_ "github.com/hatchet-dev/hatchet/cmd/hatchet-api/api"
	_ "github.com/hatchet-dev/hatchet/cmd/hatchet-engine/engine"
	_ "github.com/hatchet-dev/hatchet/cmd/hatchet-migrate/migrate"
	_ "github.com/hatchet-dev/hatchet/pkg/config/loader"
)
