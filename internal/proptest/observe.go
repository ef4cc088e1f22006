package proptest

import (
	"fmt"
	"maps"
	"sync"

	"github.com/mageflow-go/mageflow/sig"
)

// Overrun is a moment a swarm had more items running than its cap: the
// task that started then, and the task paths running, by item.
type Overrun struct {
	Swarm   string
	Cap     int
	Started string
	Running map[int][]string
}

func (v Overrun) String() string {
	return fmt.Sprintf("swarm root%s: %d items running at once (cap %d) when root%s started: %v", v.Swarm, len(v.Running), v.Cap, v.Started, v.Running)
}

// Call is one call of a record task: the value a success callback got, or
// the input and error of the failure an error callback got.
type Call struct {
	In    int
	Error *sig.ErrorInfo
}

// Observer collects what the tasks of one run see, from inside their
// functions. It is safe for concurrent use.
type Observer struct {
	slots   map[string][]slot // by task path
	retried map[string]bool   // paths whose first attempt fails

	mu      sync.Mutex
	execs   map[string]int                    // attempts run, by path
	calls   map[int][]Call                    // record-task calls, by label
	running map[string]map[int]map[string]int // swarm path -> item -> task paths running in it
	peaks   map[string]int                    // swarm path -> most items seen running at once
	over    []Overrun                         // cap violations
	foreign []string                          // tasks of records outside the plan
}

// NewObserver returns an observer for the graph of p, whose Retry faults
// fail the first attempt of the paths in retried.
func NewObserver(p *Plan, retried map[string]bool) *Observer {
	return &Observer{
		slots:   p.slots(),
		retried: retried,
		execs:   map[string]int{},
		calls:   map[int][]Call{},
		running: map[string]map[int]map[string]int{},
		peaks:   map[string]int{},
	}
}

// pathOf is id's path below its root.
func pathOf(id string) string { return id[len(sig.RootOf(id)):] }

// enter records that an attempt of task record id starts, checks the cap
// of every swarm whose slot it runs in, and returns the function that
// records its end.
func (o *Observer) enter(id string) func() {
	path := pathOf(id)
	o.mu.Lock()
	defer o.mu.Unlock()
	slots, ok := o.slots[path]
	if !ok {
		o.foreign = append(o.foreign, id)
	}
	o.execs[path]++
	for _, s := range slots {
		items := o.running[s.swarm]
		if items == nil {
			items = map[int]map[string]int{}
			o.running[s.swarm] = items
		}
		if items[s.item] == nil {
			items[s.item] = map[string]int{}
		}
		items[s.item][path]++
		o.peaks[s.swarm] = max(o.peaks[s.swarm], len(items))
		if len(items) > s.cap {
			ov := Overrun{Swarm: s.swarm, Cap: s.cap, Started: path, Running: map[int][]string{}}
			for i, paths := range items {
				for p := range paths {
					ov.Running[i] = append(ov.Running[i], p)
				}
			}
			o.over = append(o.over, ov)
		}
	}
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, s := range slots {
			items := o.running[s.swarm]
			if items[s.item][path]--; items[s.item][path] == 0 {
				delete(items[s.item], path)
			}
			if len(items[s.item]) == 0 {
				delete(items, s.item)
			}
		}
	}
}

// injected reports whether this attempt fails by an injected Retry fault.
func (o *Observer) injected(id string, attempt int) bool {
	return attempt == 1 && o.retried[pathOf(id)]
}

// call records a call of the record task with label.
func (o *Observer) call(label int, c Call) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[label] = append(o.calls[label], c)
}

// Seen is a copy of what an Observer collected.
type Seen struct {
	// Execs counts the attempts run, by record path.
	Execs map[string]int
	// Calls are the record-task calls, by label.
	Calls map[int][]Call
	// Peaks is the most items seen running at once, by swarm path.
	Peaks map[string]int
	// OverCap describes every moment a swarm ran more items than its cap.
	OverCap []Overrun
	// Slots are, by task path, the swarm items the task runs in.
	Slots map[string][]slot
	// Foreign lists task records that ran and are not in the plan.
	Foreign []string
}

// Seen returns what o collected so far.
func (o *Observer) Seen() Seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	calls := make(map[int][]Call, len(o.calls))
	for k, v := range o.calls {
		calls[k] = append([]Call(nil), v...)
	}
	return Seen{
		Execs:   maps.Clone(o.execs),
		Calls:   calls,
		Peaks:   maps.Clone(o.peaks),
		OverCap: append([]Overrun(nil), o.over...),
		Slots:   o.slots,
		Foreign: append([]string(nil), o.foreign...),
	}
}
