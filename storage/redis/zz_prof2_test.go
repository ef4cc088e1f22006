package redis_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

func TestZZProf2(t *testing.T) {
	c := redistest.Client(t)
	s, _ := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	ctx := context.Background()
	n := 500
	root := sig.NewRootID(time.Now())
	recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindSwarm, Role: sig.RoleRoot, Children: n, Swarm: &sig.SwarmState{Config: sig.SwarmConfig{MaxConcurrency: 100}, Closed: true}}}
	for i := 0; i < n; i++ {
		recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "noop", Parent: root, Role: sig.RoleChild, Index: i})
	}
	eff, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Minute, Start: true, Input: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, d := range eff.Dispatches {
		keys = append(keys, d.Key)
	}
	s.Ack(ctx, eff.Source, keys)
	lib, _ := os.ReadFile("lua/lib.lua")
	body, _ := os.ReadFile("lua/claim.lua")
	b := string(body)
	b = strings.Replace(b, "local id, run = ARGV[2], ARGV[3]", "local T = {} local function tick() local x = redis.call('TIME') T[#T+1] = x[1]*1000000 + x[2] end tick()\nlocal id, run = ARGV[2], ARGV[3]", 1)
	b = strings.Replace(b, "local x = get(id)", "local x = get(id) tick()", 1)
	b = strings.Replace(b, "acknowledge(x)\nfinish(id)\nreturn reply(outcome)", "acknowledge(x) tick()\nlocal rr = finish(id) tick()\nlocal out = reply(outcome) tick() return T", 1)
	script := goredis.NewScript("local T0 = redis.call('TIME')\n" + string(lib) + "\n" + b)
	sum := make([]int64, 5)
	cnt := 0
	for i := 0; i < n; i++ {
		id := sig.ChildID(root, i)
		res, err := script.Run(ctx, c, []string{s.Key(root)}, time.Now().UnixMilli(), id, "r"+id).Result()
		if err != nil {
			t.Fatal(err)
		}
		ts, ok := res.([]any)
		if !ok || len(ts) < 5 {
			continue
		}
		for j := 1; j < len(ts); j++ {
			sum[j] += ts[j].(int64) - ts[j-1].(int64)
		}
		cnt++
		s.Complete(ctx, id, "r"+id, []byte("2"))
	}
	fmt.Printf("n=%d get %.1f ack %.1f finish %.1f reply %.1f us\n", cnt, float64(sum[1])/float64(cnt), float64(sum[2])/float64(cnt), float64(sum[3])/float64(cnt), float64(sum[4])/float64(cnt))
}
