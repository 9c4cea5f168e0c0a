package breaker

import (
	"fmt"
	"time"
)

// ErrOpen is the sentinel for a refusal by an open (or probing) breaker; match it with
// errors.Is. The concrete error is an *OpenError carrying the retry hint.
var ErrOpen = openSentinel{}

type openSentinel struct{}

func (openSentinel) Error() string { return "circuit breaker open" }

// OpenError is returned by Allow and Check while the breaker refuses calls.
type OpenError struct {
	state      State
	retryAfter time.Duration
}

// RetryAfter is how long until a probe may be let through: the rest of the cool-down in
// the open state, or the base cool-down while a probe is already in flight (if that probe
// fails, the breaker stays open at least that long; if it succeeds, an earlier retry would
// also have succeeded, so nothing is lost by the wait).
func (e *OpenError) RetryAfter() time.Duration { return e.retryAfter }

// State is the state the breaker was in when it refused: Open or HalfOpen.
func (e *OpenError) State() State { return e.state }

func (e *OpenError) Error() string {
	return fmt.Sprintf("circuit breaker %s: retry after %s", e.state, e.retryAfter)
}

// Is makes errors.Is(err, ErrOpen) true for every *OpenError.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }
