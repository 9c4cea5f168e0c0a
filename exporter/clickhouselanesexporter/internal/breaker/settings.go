package breaker

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Defaults, from the post-mortem: a lane must give up on a dead destination after two
// failed inserts, not after a retry budget of 40 s.
const (
	DefaultFailureThreshold = 2
	DefaultCoolDown         = 5 * time.Second
	DefaultJitter           = 0.2
)

// Settings configures a Breaker. The zero value is usable: every zero field takes its
// default.
type Settings struct {
	// FailureThreshold is the number of consecutive failures that opens a closed breaker.
	FailureThreshold int
	// CoolDown is the base time an open breaker waits before letting a probe through.
	CoolDown time.Duration
	// Jitter spreads the cool-down so lanes that failed together do not probe together:
	// the wait is CoolDown × (1 + Jitter × r) with r drawn from Rand in [0, 1). Negative
	// means none.
	Jitter float64
	// IsPermanent recognises errors about the data rather than the destination (for
	// example ClickHouse rejecting a type). They do not count as failures; the destination
	// answered, so they count as success. Nil means no error is permanent.
	IsPermanent func(error) bool
	// OnTransition, if set, is called after every state change, outside the breaker's
	// lock, so it may call back into the breaker.
	OnTransition func(Transition)
	// Now is the clock; nil means time.Now. It is called under the lock: it must be fast
	// and must not call the breaker.
	Now func() time.Time
	// Rand returns a number in [0, 1); nil means math/rand/v2.Float64. Same rules as Now.
	Rand func() float64
}

func (s Settings) withDefaults() Settings {
	if s.FailureThreshold <= 0 {
		s.FailureThreshold = DefaultFailureThreshold
	}
	if s.CoolDown <= 0 {
		s.CoolDown = DefaultCoolDown
	}
	if s.Jitter == 0 {
		s.Jitter = DefaultJitter
	}
	if s.Jitter < 0 {
		s.Jitter = 0
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Rand == nil {
		s.Rand = rand.Float64
	}
	return s
}

// outcome is what a reported result means for the destination's health.
type outcome uint8

const (
	ignored outcome = iota
	success
	failure
)

// classify is the failure policy. Cancellation means we stopped waiting (shutdown), not
// that the destination failed; a deadline, on the other hand, is the dedicated insert
// timeout expiring and is exactly the failure the breaker exists to notice.
func (s *Settings) classify(err error) outcome {
	switch {
	case err == nil:
		return success
	case errors.Is(err, context.Canceled):
		return ignored
	case s.IsPermanent != nil && s.IsPermanent(err):
		return success
	}
	return failure
}

// coolDown draws one jittered cool-down, in [CoolDown, CoolDown × (1 + Jitter)).
func (s *Settings) coolDown() time.Duration {
	return s.CoolDown + time.Duration(float64(s.CoolDown)*s.Jitter*s.Rand())
}
