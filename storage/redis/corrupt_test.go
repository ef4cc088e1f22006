package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// TestForeignAndCorruptValuesGiveClearErrors writes values that are not
// ours under the store's keys: every operation reports them with
// storage.ErrCorrupt and the key, and nothing panics.
func TestForeignAndCorruptValuesGiveClearErrors(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	notAMap, _ := msgpack.Marshal([]int{1, 2, 3})
	noKind, _ := msgpack.Marshal(map[string]any{"s": "pending"})
	cases := []struct {
		name  string
		plant func(key, id string) error
	}{
		{"a string key", func(key, id string) error { return c.Set(ctx, key, "hello", time.Minute).Err() }},
		{"a list key", func(key, id string) error { return c.RPush(ctx, key, "x").Err() }},
		{"garbage bytes", func(key, id string) error { return c.HSet(ctx, key, redisstore.Field(id), "\xc1\xff garbage").Err() }},
		{"msgpack that is not a map", func(key, id string) error { return c.HSet(ctx, key, redisstore.Field(id), notAMap).Err() }},
		{"a map without a kind", func(key, id string) error { return c.HSet(ctx, key, redisstore.Field(id), noKind).Err() }},
	}
	for _, tc := range cases {
		root := sig.NewRootID(time.Now())
		key := s.Key(root)
		if err := tc.plant(key, root); err != nil {
			t.Fatal(err)
		}
		_ = c.Expire(ctx, key, time.Minute)
		ops := map[string]func() error{
			"Get":   func() error { _, err := s.Get(ctx, root); return err },
			"Claim": func() error { _, err := s.Claim(ctx, root, "run"); return err },
			"Complete": func() error {
				_, err := s.Complete(ctx, root, "run", []byte(`1`))
				return err
			},
			"Apply":      func() error { _, err := s.Apply(ctx, root, sig.OpCancel); return err },
			"StartGraph": func() error { _, err := s.StartGraph(ctx, root, []byte(`1`)); return err },
		}
		for name, op := range ops {
			err := op()
			if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), key) {
				t.Errorf("%s on %s: error %v, want storage.ErrCorrupt naming %s", name, tc.name, err, key)
			}
		}
	}
}
