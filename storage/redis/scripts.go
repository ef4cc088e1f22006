package redis

import (
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// script is one operation of the store: a Redis function of the store's
// library (Redis 7 and later), and the same code as a plain script for
// servers without functions.
type script struct {
	name string          // the operation's name (claim, complete, ...)
	fn   string          // the function's name in the library
	eval *goredis.Script // lib.lua, the helpers it needs, its own body
}

// scripts are the store's operations and the library that holds them.
type scripts struct {
	create, start, claim, complete, fail, add, close, apply, ack, owed, due, touch, spawn, confirm, request *script
	// batch runs claims, completions and failures of one graph in one
	// call (see batch.go).
	batch *script
	// library is the source of the Redis function library; name is its
	// name, which carries a hash of the source so that stores of other
	// versions keep their own.
	library, name string
}

// batched are the operations a batch runs.
var batched = map[string]bool{"claim": true, "complete": true, "fail": true}

func loadScripts() (*scripts, error) {
	read := func(n string) (string, error) {
		b, err := luaFiles.ReadFile("lua/" + n + ".lua")
		if err != nil {
			return "", fmt.Errorf("storage/redis: script %s: %w", n, err)
		}
		return string(b), nil
	}
	lib, err := read("lib")
	if err != nil {
		return nil, err
	}
	var s scripts
	ops := []struct {
		dst     **script
		name    string
		helpers []string
	}{
		{&s.create, "create", nil},
		{&s.start, "start", nil},
		{&s.claim, "claim", nil},
		{&s.complete, "complete", []string{"owned"}},
		{&s.fail, "fail", []string{"owned"}},
		{&s.add, "add", []string{"swarm"}},
		{&s.close, "close", []string{"swarm"}},
		{&s.apply, "apply", nil},
		{&s.ack, "ack", nil},
		{&s.owed, "owed", nil},
		{&s.due, "due", nil},
		{&s.touch, "touch", nil},
		{&s.spawn, "spawn", nil},
		{&s.confirm, "confirm", nil},
		{&s.request, "request", nil},
		{&s.batch, "batch", []string{"owned"}},
	}
	bodies := make([]string, len(ops))
	helpers := map[string]string{}
	for i, op := range ops {
		if bodies[i], err = read(op.name); err != nil {
			return nil, err
		}
		for _, h := range op.helpers {
			if helpers[h], err = read(h); err != nil {
				return nil, err
			}
		}
	}
	sum := sha1.New()
	sum.Write([]byte(lib))
	for _, b := range bodies {
		sum.Write([]byte(b))
	}
	for _, h := range []string{"owned", "swarm"} {
		sum.Write([]byte(helpers[h]))
	}
	hash := hex.EncodeToString(sum.Sum(nil))[:12]
	s.name = "mageflow_" + hash

	// The operations a batch runs are functions of the library too, each
	// the body of its own call.
	var batchable strings.Builder
	batchable.WriteString("local batchable = {}\n")
	for i, op := range ops {
		if batched[op.name] {
			fmt.Fprintf(&batchable, "batchable['%s'] = function(KEYS, ARGV)\n%s\nend\n", op.name, bodies[i])
		}
	}
	var libSrc strings.Builder
	fmt.Fprintf(&libSrc, "#!lua name=%s\n%s\n%s\n%s\n%s", s.name, lib, helpers["owned"], helpers["swarm"], batchable.String())
	for i, op := range ops {
		fn := "mageflow_" + hash + "_" + op.name
		// Each operation's body is the body of a function of its own:
		// begin resets the per-call state that lib.lua keeps in upvalues.
		fmt.Fprintf(&libSrc, "\nredis.register_function('%s', function(KEYS, ARGV)\nbegin(KEYS, ARGV)\n%s\nend)\n", fn, bodies[i])
		var src strings.Builder
		src.WriteString(lib)
		src.WriteByte('\n')
		for _, h := range op.helpers {
			src.WriteString(helpers[h])
			src.WriteByte('\n')
		}
		if op.name == "batch" {
			src.WriteString(batchable.String())
		}
		src.WriteString("begin(KEYS, ARGV)\n")
		src.WriteString(bodies[i])
		*op.dst = &script{name: op.name, fn: fn, eval: goredis.NewScript(src.String())}
	}
	s.library = libSrc.String()
	return &s, nil
}
