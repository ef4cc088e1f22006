package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

// TestConformanceWithReplicas runs the conformance suite on a primary
// with a replica, every write waiting for it.
func TestConformanceWithReplicas(t *testing.T) {
	primary := redistest.NewServer(t, "--appendonly", "no")
	redistest.NewReplica(t, primary.Addr, "--appendonly", "no")
	c := primary.Client(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)), redisstore.WithReplicas(1, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// pair starts a primary and a replica that replicates through a link
// the test can cut.
func pair(t *testing.T) (primary, replica *redistest.Server, link *redistest.Link) {
	t.Helper()
	primary = redistest.NewServer(t, "--appendonly", "no")
	link = redistest.NewLink(t, primary.Addr)
	replica = redistest.NewReplica(t, link.Addr, "--appendonly", "no")
	return primary, replica, link
}

// TestConformanceWithReplicasOnACluster runs the suite through a cluster
// client (whose slots are all on one primary with a replica), where each
// write and its WAIT go to the key's master.
func TestConformanceWithReplicasOnACluster(t *testing.T) {
	primary := redistest.NewServer(t, "--appendonly", "no")
	replica := redistest.NewReplica(t, primary.Addr, "--appendonly", "no")
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{
		ClusterSlots: func(ctx context.Context) ([]goredis.ClusterSlot, error) {
			return []goredis.ClusterSlot{{Start: 0, End: 16383, Nodes: []goredis.ClusterNode{{Addr: primary.Addr}, {Addr: replica.Addr}}}}, nil
		},
	})
	t.Cleanup(func() { _ = cc.Close() })
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := redisstore.New(cc, redisstore.WithPrefix(redistest.Prefix(t, cc)), redisstore.WithReplicas(1, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// claimedTask creates and starts a one-task graph and claims the task,
// everything replicated; it returns the task's id.
func claimedTask(t *testing.T, s *redisstore.Store) string {
	t.Helper()
	ctx := context.Background()
	root := sig.NewRootID(time.Now())
	g := storage.Graph{Records: []*sig.Record{{ID: root, Root: root, Kind: sig.KindTask, Name: "t", Role: sig.RoleRoot}},
		ActiveTTL: time.Hour, DoneTTL: time.Hour, Start: true, Input: []byte(`1`)}
	if _, err := s.CreateGraph(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, root, "run-1"); err != nil {
		t.Fatal(err)
	}
	return root
}

// Without WithReplicas, a transition the store acknowledged is lost when
// the primary dies before its replica had it: the loss WithReplicas
// prevents.
func TestFailoverLosesAnAcknowledgedTransitionWithoutReplicas(t *testing.T) {
	t.Parallel()
	primary, replica, link := pair(t)
	sw := redistest.NewFollower(t, primary.Addr)
	s, err := redisstore.New(sw.Client)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := claimedTask(t, s)
	waitReplicated(t, primary)
	link.Cut()
	if _, err := s.Complete(ctx, id, "run-1", []byte(`2`)); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	redistest.Failover(t, sw, primary, replica)
	r, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == sig.Done {
		t.Fatal("the acknowledged Complete survived the failover: the test did not cut replication")
	}
	t.Logf("acknowledged Complete lost by the failover: the task is %s on the new primary", r.Status)
}

// With WithReplicas(1, …), a transition its replica did not have in time
// is not acknowledged (ErrNotReplicated); after the failover the task is
// as the new primary knows it, and repeating the transition there, with a
// replica again, completes it.
func TestWithReplicasAcknowledgesOnlyWhatAReplicaHas(t *testing.T) {
	t.Parallel()
	primary, replica, link := pair(t)
	sw := redistest.NewFollower(t, primary.Addr)
	s, err := redisstore.New(sw.Client, redisstore.WithReplicas(1, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// the setup waits longer for the replica than the checks below: on a
	// loaded machine a replica may take more than 200ms to acknowledge
	setup, err := redisstore.New(sw.Client, redisstore.WithReplicas(1, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := claimedTask(t, setup)
	link.Cut()
	_, err = s.Complete(ctx, id, "run-1", []byte(`2`))
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Complete with the replica cut off: %v; want ErrNotReplicated", err)
	}
	// repeating it on the same primary (a replay, which writes nothing),
	// also on another connection, is not acknowledged either
	other, err := redisstore.New(primary.Client(t), redisstore.WithReplicas(1, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*redisstore.Store{s, other} {
		if _, err := st.Complete(ctx, id, "run-1", []byte(`2`)); !errors.Is(err, redisstore.ErrNotReplicated) {
			t.Fatalf("Complete repeated with the replica cut off: %v; want ErrNotReplicated", err)
		}
	}
	// an answer of the store's code (here: the graph exists, from the
	// unacknowledged first try) is not acknowledged either, nor is a read
	// of what may not survive
	root := sig.NewRootID(time.Now())
	g := storage.Graph{Records: []*sig.Record{{ID: root, Root: root, Kind: sig.KindTask, Name: "t", Role: sig.RoleRoot}},
		ActiveTTL: time.Hour, DoneTTL: time.Hour, Start: true, Input: []byte(`1`)}
	for try := range 2 {
		if _, err := s.CreateGraph(ctx, g); !errors.Is(err, redisstore.ErrNotReplicated) || errors.Is(err, storage.ErrExists) {
			t.Fatalf("CreateGraph try %d with the replica cut off: %v; want ErrNotReplicated only", try, err)
		}
	}
	if _, err := s.Get(ctx, root); !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Get with the replica cut off: %v; want ErrNotReplicated", err)
	}
	redistest.Failover(t, sw, primary, replica)
	if _, err := s.Get(ctx, id); !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Get on the promoted replica, which has no replica: %v; want ErrNotReplicated", err)
	}
	redistest.NewReplica(t, replica.Addr, "--appendonly", "no")
	// with a replica again, the store acknowledges (the setup store waits
	// longer: a new replica's first acknowledgement may take a while)
	if _, err := setup.Get(ctx, root); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get of the unacknowledged graph after the failover: %v; want not found", err)
	}
	r, err := setup.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != sig.Active {
		t.Fatalf("after the failover the task is %s, want active (the unacknowledged Complete lost)", r.Status)
	}
	eff, err := setup.Complete(ctx, id, "run-1", []byte(`2`))
	if err != nil {
		t.Fatalf("Complete repeated on the new primary with a replica: %v", err)
	}
	if eff.Source == "" {
		t.Error("Complete returned no effects")
	}
	if r, err := setup.Get(ctx, id); err != nil || r.Status != sig.Done {
		t.Fatalf("task after the repeated Complete: %v, %v; want done", r, err)
	}
}

// waitReplicated waits until primary's replicas have all it wrote.
func waitReplicated(t *testing.T, primary *redistest.Server) {
	t.Helper()
	c := primary.Client(t)
	if n, err := c.Wait(context.Background(), 1, 5*time.Second).Result(); err != nil || n < 1 {
		t.Fatalf("WAIT 1: %d, %v", n, err)
	}
}

func TestWithReplicasRefusesBadArguments(t *testing.T) {
	c := redistest.Client(t)
	for _, o := range []redisstore.Option{redisstore.WithReplicas(0, time.Second), redisstore.WithReplicas(1, 0), redisstore.WithReplicas(1, c.Options().ReadTimeout)} {
		if _, err := redisstore.New(c, o); err == nil {
			t.Error("New accepted a WithReplicas without replicas, without timeout, or with one the client's ReadTimeout cuts short")
		}
	}
	ring := goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": c.Options().Addr}})
	t.Cleanup(func() { _ = ring.Close() })
	if _, err := redisstore.New(ring, redisstore.WithReplicas(1, time.Second)); err == nil || !strings.Contains(err.Error(), "Ring") {
		t.Errorf("New on a Ring with WithReplicas: %v; want refused", err)
	}
}
