package hatchet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	sdk "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/mageflow-go/mageflow/backend"
)

// Backend runs mageflow tasks on Hatchet. It is safe for concurrent use.
type Backend struct {
	c              *sdk.Client
	workerName     string
	slots          int
	durableSlots   int
	defaultTimeout time.Duration
	lease          time.Duration
	namespace      string
	log            *slog.Logger

	mu      sync.Mutex
	tasks   map[string]*entry
	known   map[string]bool
	started bool
	stopped bool
	// running counts the handlers running; once the worker stops, idle
	// is closed when it drops to zero. Both under mu: a run may begin
	// while the worker stops, which a WaitGroup does not allow.
	running int
	idle    chan struct{}
	// cancels holds the cancel functions of the running handlers, for a
	// stop that gives up waiting.
	cancels map[*context.CancelFunc]struct{}
}

var _ backend.Backend = (*Backend)(nil)

// entry is a registered task.
type entry struct {
	spec backend.TaskSpec
	h    backend.Handler
}

// input is what a Hatchet run of a mageflow task receives: the task's
// input and the dispatch's dedupe key, from which Hatchet computes its
// idempotency key. The key is always there: Hatchet drops a run whose key
// expression fails.
type input struct {
	// Payload is the task's input as JSON text, readable in the
	// dashboard. It travels as a string because the SDK holds a run's
	// input as a map[string]any: numbers in it would become float64 and
	// integers past 2^53 would lose digits.
	Payload string `json:"payload"`
	// In is the input of runs triggered before Payload existed, which
	// carried it as a JSON value; it is read when Payload is empty.
	In  json.RawMessage `json:"in,omitempty"`
	Key string          `json:"key"`
}

// payload is the task's input as JSON.
func (in input) payload() []byte {
	switch {
	case in.Payload != "":
		return []byte(in.Payload)
	case len(in.In) > 0:
		return in.In
	}
	return []byte("null")
}

// output is what a Hatchet run returns; results live in mageflow's store.
type output struct {
	Record string `json:"record"`
}

// NewClient returns a Hatchet client configured by opts and the
// HATCHET_CLIENT_* environment, returning the SDK's panics on bad
// configuration as errors. The token never appears in errors. It also
// makes a legacy client of the same configuration, whose bulk trigger a
// Backend on this client uses for DispatchBatch (the SDK's client does
// not expose its own; the legacy client has no Close and lives as long
// as the process); a Backend on a client made otherwise triggers one run
// per call. Runs triggered in bulk carry the dispatch's metadata as it
// is, where the SDK's one-run trigger adds the caller's span's
// traceparent.
func NewClient(opts ...v0client.ClientOpt) (c *sdk.Client, err error) {
	defer func() {
		if v := recover(); v != nil {
			c, err = nil, fmt.Errorf("backend/hatchet: new client: bad configuration: %v", redact(fmt.Sprint(v)))
		}
	}()
	c, err = sdk.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("backend/hatchet: new client: %s", redact(err.Error()))
	}
	// a legacy client of the same configuration, for the bulk trigger
	// the SDK's client does not expose
	legacy, err := v0client.New(opts...)
	if err != nil {
		_ = c.Close(context.Background())
		return nil, fmt.Errorf("backend/hatchet: new client: %s", redact(err.Error()))
	}
	admins.Store(c, legacy.Admin())
	return c, nil
}

// New returns a backend over the Hatchet client c, which the caller
// configures and keeps.
func New(c *sdk.Client, opts ...Option) (*Backend, error) {
	if c == nil {
		return nil, errors.New("backend/hatchet: nil client")
	}
	b := &Backend{
		c:              c,
		workerName:     "mageflow",
		slots:          DefaultSlots,
		durableSlots:   DefaultDurableSlots,
		defaultTimeout: DefaultTimeout,
		lease:          DefaultLease,
		namespace:      normalizeNamespace(os.Getenv("HATCHET_CLIENT_NAMESPACE")),
		log:            slog.New(slog.DiscardHandler),
		tasks:          make(map[string]*entry),
		known:          make(map[string]bool),
		cancels:        make(map[*context.CancelFunc]struct{}),
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Register implements backend.Backend. Tasks are created on the engine
// when the worker starts, so Register comes before Start.
func (b *Backend) Register(spec backend.TaskSpec, h backend.Handler) error {
	if err := spec.Check(h); err != nil {
		return fmt.Errorf("backend/hatchet: register: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return fmt.Errorf("backend/hatchet: register %q: %w (register tasks before Start)", spec.Name, backend.ErrWorkerStarted)
	}
	if _, ok := b.tasks[spec.Name]; ok {
		return fmt.Errorf("backend/hatchet: task %q already registered", spec.Name)
	}
	b.tasks[spec.Name] = &entry{spec: spec, h: h}
	return nil
}

// Known implements backend.Backend: a task is known when this process
// registered it or the engine has a workflow of that exact name.
func (b *Backend) Known(ctx context.Context, name string) (bool, error) {
	b.mu.Lock()
	_, local := b.tasks[name]
	cached := b.known[name]
	b.mu.Unlock()
	if local || cached {
		return true, nil
	}
	full := name
	if b.namespace != "" && !strings.HasPrefix(name, b.namespace) {
		full = b.namespace + name
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	list, err := b.c.Workflows().List(ctx, &rest.WorkflowListParams{Name: &full})
	if err != nil {
		return false, fmt.Errorf("backend/hatchet: look up task %q: %w", name, err)
	}
	found := false
	if list != nil && list.Rows != nil {
		for _, w := range *list.Rows {
			if w.Name == full {
				found = true
				break
			}
		}
	}
	if found {
		b.mu.Lock()
		b.known[name] = true
		b.mu.Unlock()
	}
	return found, nil
}

// callTimeout bounds a call to the engine made with a context that has no
// deadline, so that a hung engine does not hang its caller.
const callTimeout = 30 * time.Second

// bounded returns ctx, with callTimeout when it has no deadline.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, callTimeout)
}

// Dispatch implements backend.Backend. It returns when ctx ends even if
// the SDK's trigger, which ignores contexts, does not.
func (b *Backend) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	ok, err := b.Known(ctx, d.Task)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("backend/hatchet: dispatch %q: no worker registered it: %w", d.Task, backend.ErrUnknownTask)
	}
	if hctx, isHatchet := ctx.(sdk.Context); isHatchet {
		// a Hatchet context would make the run a child of the current one
		ctx = hctx.GetContext()
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	type result struct {
		id  string
		err error
	}
	key := d.Key
	if key == "" {
		key = "nokey-" + uuid.NewString() // no dedupe asked: a key of its own
	}
	done := make(chan result, 1)
	go func() {
		ref, err := b.c.RunNoWait(context.WithoutCancel(ctx), d.Task, input{Payload: string(d.Payload), Key: key}, sdk.WithRunMetadata(runMetadata(d)))
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{id: ref.RunId}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if id, dup := collision(r.err); dup {
				return id, nil
			}
			return "", fmt.Errorf("backend/hatchet: dispatch %q: %w", d.Task, r.err)
		}
		return r.id, nil
	case <-ctx.Done():
		return "", fmt.Errorf("backend/hatchet: dispatch %q: %w", d.Task, ctx.Err())
	}
}

// batchParallelism bounds the dispatches DispatchBatch has in flight. The
// engine takes five triggers at once by default and refuses the others
// (SERVER_GRPC_TRIGGER_WRITE_SLOTS); mageflow sends refused dispatches
// again.
const batchParallelism = 8

var _ backend.Batcher = (*Backend)(nil)

// DispatchBatch implements backend.Batcher. With a client NewClient
// made, the dispatches of known tasks go out in the engine's bulk
// trigger, one call per 500; otherwise, or when a bulk call fails, one
// run per call, in parallel, at most batchParallelism at a time.
func (b *Backend) DispatchBatch(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	if admin := adminOf(b.c); admin != nil && len(ds) > 1 {
		return b.dispatchBatchBulk(ctx, admin, ds)
	}
	return b.dispatchEach(ctx, ds)
}

// dispatchEach dispatches ds one run per call, at most batchParallelism
// at a time.
func (b *Backend) dispatchEach(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	ids := make([]string, len(ds))
	errs := make([]error, len(ds))
	sem := make(chan struct{}, batchParallelism)
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ids[i], errs[i] = b.Dispatch(ctx, d)
		}()
	}
	wg.Wait()
	return ids, errs
}

// collision reports whether err says the dispatch's key was seen, and the
// run that has it.
func collision(err error) (string, bool) {
	var v0 *v0client.IdempotencyViolationErr
	if errors.As(err, &v0) {
		return v0.ExistingRunExternalId, true
	}
	if e, ok := sdk.IsIdempotencyCollisionError(err); ok {
		return e.ExistingRunExternalId, true
	}
	return "", false
}

// Cancel implements backend.Backend through Hatchet's REST API.
func (b *Backend) Cancel(ctx context.Context, runID string) error {
	id, err := uuid.Parse(runID)
	if err != nil {
		return nil // not a Hatchet run id: no such run
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	if _, err := b.c.Runs().Cancel(ctx, rest.V1CancelTaskRequest{ExternalIds: &[]uuid.UUID{id}}); err != nil {
		return fmt.Errorf("backend/hatchet: cancel run %s: %w", runID, err)
	}
	return nil
}

// runMetadata is d's Meta with its Record and Root, which Hatchet carries
// as run metadata (and shows in its dashboard).
func runMetadata(d backend.Dispatch) map[string]string {
	m := make(map[string]string, len(d.Meta)+2)
	maps.Copy(m, d.Meta)
	if d.Record != "" {
		m[backend.MetaRecord] = d.Record
	}
	if d.Root != "" {
		m[backend.MetaRoot] = d.Root
	}
	return m
}
