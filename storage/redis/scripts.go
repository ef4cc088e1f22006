package redis

import (
	"embed"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// scripts are the store's Lua scripts, one per operation. Each is lib.lua,
// the helpers it needs, and its own body.
type scripts struct {
	create, start, claim, complete, fail, add, close, apply, ack, get *goredis.Script
}

func loadScripts() (*scripts, error) {
	read := func(names ...string) (*goredis.Script, error) {
		var src []byte
		for _, n := range names {
			b, err := luaFiles.ReadFile("lua/" + n + ".lua")
			if err != nil {
				return nil, fmt.Errorf("storage/redis: script %s: %w", n, err)
			}
			src = append(src, b...)
			src = append(src, '\n')
		}
		return goredis.NewScript(string(src)), nil
	}
	var s scripts
	var err error
	for _, x := range []struct {
		dst   **goredis.Script
		names []string
	}{
		{&s.create, []string{"lib", "create"}},
		{&s.start, []string{"lib", "start"}},
		{&s.claim, []string{"lib", "claim"}},
		{&s.complete, []string{"lib", "owned", "complete"}},
		{&s.fail, []string{"lib", "owned", "fail"}},
		{&s.add, []string{"lib", "swarm", "add"}},
		{&s.close, []string{"lib", "swarm", "close"}},
		{&s.apply, []string{"lib", "apply"}},
		{&s.ack, []string{"lib", "ack"}},
		{&s.get, []string{"lib", "get"}},
	} {
		if *x.dst, err = read(x.names...); err != nil {
			return nil, err
		}
	}
	return &s, nil
}
