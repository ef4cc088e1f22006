package memory

// Stats counts what a [Backend] did since [New].
type Stats struct {
	// Dispatched counts runs created by Dispatch, including the extra runs
	// of [DuplicateDelivery].
	Dispatched int
	// Deduplicated counts Dispatch calls answered with an existing run's id
	// because their key is that of a run that has not ended.
	Deduplicated int
	// Delivered counts handler calls: first attempts, retries and
	// redeliveries.
	Delivered int
	// Redelivered counts deliveries of the same attempt again, caused by
	// [Redeliver] or [CrashBeforeDispatch].
	Redelivered int
	// Retried counts retries scheduled after a failed attempt.
	Retried int
	// Succeeded counts runs whose handler returned nil.
	Succeeded int
	// Failed counts runs ended with an error: final, or out of attempts.
	Failed int
	// Canceled counts runs ended by Cancel.
	Canceled int
	// Panicked counts handler calls that panicked.
	Panicked int
	// FaultsFired counts the times an injected [Fault] fired.
	FaultsFired int
}

// Stats returns the counters so far. It is safe to call at any time.
func (b *Backend) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}
