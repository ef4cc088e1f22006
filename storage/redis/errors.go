package redis

import (
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/storage"
)

// codes maps the error codes the scripts raise to storage sentinels.
var codes = map[string]error{
	"NOTFOUND": storage.ErrNotFound,
	"EXISTS":   storage.ErrExists,
	"NOTOWNER": storage.ErrNotOwner,
	"CANCELED": storage.ErrCanceled,
	"CONFLICT": storage.ErrConflict,
	"STATE":    storage.ErrState,
	"CORRUPT":  storage.ErrCorrupt,
}

// translate turns an error of an operation on key into the store's error:
// the scripts' codes and Redis's own answers become storage sentinels,
// anything else (an unreachable server) is wrapped as it is. It is the one
// place where Redis errors are translated.
func translate(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, goredis.Nil) {
		return fmt.Errorf("storage/redis: %s: key %s: %w", op, key, storage.ErrNotFound)
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		code, rest, _ := strings.Cut(msg, " ")
		if i := strings.Index(rest, " script: "); i >= 0 {
			rest = rest[:i] // Redis appends where in the script the error rose
		}
		if sentinel, ok := codes[code]; ok {
			return fmt.Errorf("storage/redis: %s: %s: %w", op, rest, sentinel)
		}
		if full(rerr) {
			return fmt.Errorf("storage/redis: %s: key %s: %w (%s)", op, key, ErrFull, msg)
		}
		if code == "WRONGTYPE" {
			return fmt.Errorf("storage/redis: %s: key %s holds a value that is not a mageflow graph: %w", op, key, storage.ErrCorrupt)
		}
		if strings.Contains(msg, "user_script") || strings.Contains(msg, "user_function") || strings.Contains(msg, "cmsgpack") {
			return fmt.Errorf("storage/redis: %s: key %s: script failed on a stored value (%s): %w", op, key, msg, storage.ErrCorrupt)
		}
	}
	return fmt.Errorf("storage/redis: %s: key %s: %w", op, key, err)
}

// answered reports whether err is an answer of the store's code (one of
// its error codes, or a stored value it could not read), as opposed to a
// command that did not run or a server that was not reached.
func answered(err error) bool {
	var rerr goredis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	msg := rerr.Error()
	code, _, _ := strings.Cut(msg, " ")
	if _, ok := codes[code]; ok {
		return true
	}
	return code == "WRONGTYPE" || strings.Contains(msg, "user_script") || strings.Contains(msg, "user_function") || strings.Contains(msg, "cmsgpack")
}
