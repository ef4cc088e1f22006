package memory

// queue is an unbounded FIFO of runs waiting for a worker. It is guarded by
// Backend.mu.
type queue struct {
	items []*run
	head  int
}

// compactAt is the number of popped slots after which pop moves the live
// items to the front of the slice.
const compactAt = 1024

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) push(r *run) { q.items = append(q.items, r) }

// pop removes and returns the oldest run; the queue must not be empty.
func (q *queue) pop() *run {
	r := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= compactAt && 2*q.head >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return r
}
