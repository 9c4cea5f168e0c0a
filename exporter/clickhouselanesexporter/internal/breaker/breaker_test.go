package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	errInsert = errors.New("connection refused")
	errSchema = errors.New("code 53: type mismatch")
)

// clock is a fake clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTestBreaker has a 10 s cool-down without jitter, a fake clock, and schema errors as
// permanent data errors.
func newTestBreaker(t *testing.T, s Settings) (*Breaker, *clock) {
	t.Helper()
	c := newClock()
	s.Now = c.Now
	if s.CoolDown == 0 {
		s.CoolDown = 10 * time.Second
	}
	if s.Jitter == 0 {
		s.Jitter = -1
	}
	s.IsPermanent = func(err error) bool { return errors.Is(err, errSchema) }
	return New(s), c
}

// step is one action against the breaker in a state-machine test.
type step struct {
	advance time.Duration // move the clock first
	result  error         // outcome reported for the Token (when allowed)
	refused bool          // Allow is expected to refuse
	want    State         // state after the step
}

func TestStateMachine(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"success keeps closed", []step{{want: Closed}, {want: Closed}}},
		{"one failure stays closed", []step{{result: errInsert, want: Closed}}},
		{"two consecutive failures open", []step{
			{result: errInsert, want: Closed}, {result: errInsert, want: Open},
			{refused: true, want: Open},
		}},
		{"a success resets the count", []step{
			{result: errInsert, want: Closed}, {want: Closed},
			{result: errInsert, want: Closed}, {result: errInsert, want: Open},
		}},
		{"cool-down leads to half-open, probe success closes", []step{
			{result: errInsert}, {result: errInsert, want: Open},
			{advance: 9 * time.Second, refused: true, want: Open},
			{advance: time.Second, want: Closed},
		}},
		{"probe failure reopens for a new cool-down", []step{
			{result: errInsert}, {result: errInsert, want: Open},
			{advance: 10 * time.Second, result: errInsert, want: Open},
			{advance: 9 * time.Second, refused: true, want: Open},
			{advance: time.Second, want: Closed},
		}},
		{"cancellation does not count", []step{
			{result: errInsert}, {result: context.Canceled, want: Closed},
			{result: fmt.Errorf("insert logs: %w", context.Canceled), want: Closed},
		}},
		{"deadline counts as failure", []step{
			{result: context.DeadlineExceeded}, {result: context.DeadlineExceeded, want: Open},
		}},
		{"permanent data errors do not count", []step{
			{result: errInsert}, {result: fmt.Errorf("insert: %w", errSchema), want: Closed},
			{result: errInsert, want: Closed},
		}},
		{"permanent error from the probe closes", []step{
			{result: errInsert}, {result: errInsert, want: Open},
			{advance: 10 * time.Second, result: errSchema, want: Closed},
		}},
		{"cancelled probe keeps half-open and frees the probe", []step{
			{result: errInsert}, {result: errInsert, want: Open},
			{advance: 10 * time.Second, result: context.Canceled, want: HalfOpen},
			{want: Closed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c := newTestBreaker(t, Settings{})
			for i, s := range tt.steps {
				c.Advance(s.advance)
				tok, err := b.Allow()
				if s.refused {
					require.ErrorIs(t, err, ErrOpen, "step %d", i)
				} else {
					require.NoError(t, err, "step %d", i)
					tok.Done(s.result)
				}
				assert.Equal(t, s.want, b.State(), "step %d", i)
			}
		})
	}
}

func TestStaleResultFromOlderGenerationIsIgnored(t *testing.T) {
	b, c := newTestBreaker(t, Settings{})
	slow, err := b.Allow() // a slow insert admitted while closed
	require.NoError(t, err)
	trip(t, b)

	slow.Done(nil) // a late success must not close an open breaker
	assert.Equal(t, Open, b.State())

	c.Advance(10 * time.Second)
	probe, err := b.Allow()
	require.NoError(t, err)
	slow.Done(errInsert) // nor may a late failure fail the probe
	assert.Equal(t, HalfOpen, b.State())
	probe.Done(nil)
	assert.Equal(t, Closed, b.State())

	// And a token from the earlier closed generation does not count in the new one.
	old, err := b.Allow()
	require.NoError(t, err)
	trip(t, b)
	c.Advance(10 * time.Second)
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(nil)
	old.Done(errInsert)
	old.Done(errInsert)
	assert.Equal(t, Closed, b.State())
}

func TestOnlyOneProbeInHalfOpen(t *testing.T) {
	b, c := newTestBreaker(t, Settings{})
	trip(t, b)
	c.Advance(10 * time.Second)

	const callers = 64
	var allowed atomic.Int32
	tokens := make(chan Token, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			if tok, err := b.Allow(); err == nil {
				allowed.Add(1)
				tokens <- tok
			} else {
				assert.ErrorIs(t, err, ErrOpen)
			}
		})
	}
	close(start)
	wg.Wait()
	require.EqualValues(t, 1, allowed.Load())
	require.ErrorIs(t, b.Check(), ErrOpen, "Check refuses while the probe is in flight")
	(<-tokens).Done(nil)
	assert.Equal(t, Closed, b.State())
}

func TestOpenErrorCarriesTimeUntilProbe(t *testing.T) {
	b, c := newTestBreaker(t, Settings{})
	trip(t, b)
	c.Advance(3 * time.Second)

	_, err := b.Allow()
	var oe *OpenError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, 7*time.Second, oe.RetryAfter())
	assert.Equal(t, Open, oe.State())
	assert.EqualError(t, err, "circuit breaker open: retry after 7s")
	assert.Equal(t, err, b.Check())

	c.Advance(7 * time.Second)
	require.NoError(t, b.Check(), "a probe may go through once the cool-down elapsed")
	_, err = b.Allow()
	require.NoError(t, err)
	_, err = b.Allow()
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, HalfOpen, oe.State())
	assert.Equal(t, 10*time.Second, oe.RetryAfter(), "while probing: the base cool-down")
}

func TestCoolDownJitterStaysInBounds(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999999} {
		t.Run(fmt.Sprint(r), func(t *testing.T) {
			b, _ := newTestBreaker(t, Settings{Jitter: 0.2, Rand: func() float64 { return r }})
			trip(t, b)
			var oe *OpenError
			require.ErrorAs(t, b.Check(), &oe)
			want := 10*time.Second + time.Duration(r*float64(2*time.Second))
			assert.Equal(t, want, oe.RetryAfter())
		})
	}
	t.Run("default rand", func(t *testing.T) {
		s := Settings{CoolDown: 10 * time.Second, Jitter: 0.2}.withDefaults()
		seen := map[time.Duration]bool{}
		for range 1000 {
			d := s.coolDown()
			require.GreaterOrEqual(t, d, 10*time.Second)
			require.Less(t, d, 12*time.Second)
			seen[d] = true
		}
		assert.Greater(t, len(seen), 1, "jitter spreads the cool-downs")
	})
}

func TestObserverSeesEveryTransitionOutsideTheLock(t *testing.T) {
	var got []Transition
	var b *Breaker
	b, c := newTestBreaker(t, Settings{OnTransition: func(tr Transition) {
		got = append(got, tr)
		_ = b.State() // would deadlock if called under the lock
	}})
	trip(t, b)
	c.Advance(10 * time.Second)
	tok, err := b.Allow()
	require.NoError(t, err)
	tok.Done(errInsert)
	c.Advance(10 * time.Second)
	tok, err = b.Allow()
	require.NoError(t, err)
	tok.Done(nil)

	assert.Equal(t, []Transition{
		{From: Closed, To: Open, Generation: 1},
		{From: Open, To: HalfOpen, Generation: 2},
		{From: HalfOpen, To: Open, Generation: 3},
		{From: Open, To: HalfOpen, Generation: 4},
		{From: HalfOpen, To: Closed, Generation: 5},
	}, got)
}

func TestStateNames(t *testing.T) {
	assert.Equal(t, "closed", Closed.String())
	assert.Equal(t, "open", Open.String())
	assert.Equal(t, "half_open", HalfOpen.String())
	assert.Equal(t, "unknown", State(9).String())
}

func TestZeroTokenDoneIsNoOp(t *testing.T) {
	Token{}.Done(errInsert)
}

func TestZeroSettingsUseDefaults(t *testing.T) {
	b := New(Settings{})
	for range DefaultFailureThreshold {
		tok, err := b.Allow()
		require.NoError(t, err)
		tok.Done(errInsert)
	}
	var oe *OpenError
	require.ErrorAs(t, b.Check(), &oe)
	assert.GreaterOrEqual(t, oe.RetryAfter(), DefaultCoolDown*9/10)
	assert.LessOrEqual(t, oe.RetryAfter(), DefaultCoolDown*12/10)
}

// trip opens a closed breaker with threshold failures.
func trip(t *testing.T, b *Breaker) {
	t.Helper()
	for b.State() == Closed {
		tok, err := b.Allow()
		require.NoError(t, err)
		tok.Done(errInsert)
	}
	require.Equal(t, Open, b.State())
}

func BenchmarkAllowDoneClosed(b *testing.B) {
	br := New(Settings{})
	b.ReportAllocs()
	for b.Loop() {
		tok, err := br.Allow()
		if err != nil {
			b.Fatal(err)
		}
		tok.Done(nil)
	}
}

func BenchmarkAllowRefusedOpen(b *testing.B) {
	br := New(Settings{CoolDown: time.Hour})
	for br.State() == Closed {
		tok, _ := br.Allow()
		tok.Done(errInsert)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := br.Allow(); err == nil {
			b.Fatal("allowed")
		}
	}
}

// BenchmarkAllowDoneClosedParallel is the closed path with every core on one lane.
func BenchmarkAllowDoneClosedParallel(b *testing.B) {
	br := New(Settings{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok, err := br.Allow()
			if err != nil {
				b.Fatal(err)
			}
			tok.Done(nil)
		}
	})
}
