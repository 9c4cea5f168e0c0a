package breaker

// State is the position of a Breaker in its state machine.
type State uint8

const (
	// Closed lets every call through and counts consecutive failures.
	Closed State = iota
	// Open refuses every call until its cool-down has elapsed.
	Open
	// HalfOpen lets exactly one probe through; its outcome closes or reopens the breaker.
	HalfOpen
)

// String returns the canonical lowercase name used in metrics and logs:
// "closed", "open" or "half_open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "unknown"
}

// Transition describes one state change, as passed to Settings.OnTransition.
type Transition struct {
	From, To State
	// Generation is the generation that To starts. Observers called from several
	// goroutines may see transitions out of order; the larger generation is the newer one.
	Generation uint64
}
