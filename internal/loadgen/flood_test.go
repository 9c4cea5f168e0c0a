package loadgen

import (
	"context"
	"errors"
	"testing"
	"time"
)

// scriptedSender refuses the first refusals attempts (RESOURCE_EXHAUSTED without RetryInfo,
// which an exporter would not retry, or with hint) and accepts the rest; it calls onAccept
// after each acceptance.
type scriptedSender struct {
	refusals int
	hint     time.Duration
	attempts int
	onAccept func()
	// onAttempt, if set, runs after each attempt is counted.
	onAttempt func()
}

func (s *scriptedSender) send(context.Context, Signal, string, []byte) Outcome {
	s.attempts++
	if s.onAttempt != nil {
		s.onAttempt()
	}
	if s.attempts <= s.refusals {
		return Outcome{Code: "RESOURCE_EXHAUSTED", Retryable: s.hint > 0, RetryAfter: s.hint, HasHint: s.hint > 0,
			Err: errors.New("refused")}
	}
	if s.onAccept != nil {
		s.onAccept()
	}
	return Outcome{Code: "ok"}
}

func (s *scriptedSender) close() error { return nil }

func runScripted(t *testing.T, retry RetryPolicy, snd *scriptedSender, offer context.Context) *runner {
	t.Helper()
	tpl, err := NewTemplate(Traces, "", Shape{ItemsPerRequest: 10})
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: Config{Retry: retry, Senders: 1}, snd: snd, refused: map[string]int64{}}
	r.sender(context.Background(), offer, 0, tpl)
	return r
}

// TestFloodSenderResendsRefusalsItsPoliteTwinWouldNot: a flood sender resends the same request
// after refusals an exporter gives up on (no hint), until it is accepted.
func TestFloodSenderResendsRefusalsItsPoliteTwinWouldNot(t *testing.T) {
	offer, stop := context.WithCancel(context.Background())
	defer stop()
	snd := &scriptedSender{refusals: 5, onAccept: stop}
	r := runScripted(t, FloodRetry(), snd, offer)
	if got := r.attempts.Load(); got != 6 {
		t.Errorf("flood: %d attempts, want 6 (5 refused, then accepted)", got)
	}
	if r.requests.Load() != 1 || r.itemsAcked.Load() != 10 || r.itemsFailed.Load() != 0 {
		t.Errorf("flood: requests %d, acked %d, failed %d; want 1, 10, 0", r.requests.Load(), r.itemsAcked.Load(), r.itemsFailed.Load())
	}

	offer2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	r = runScripted(t, DefaultRetry(), &scriptedSender{refusals: 1, onAccept: stop2}, offer2)
	if r.attempts.Load() != 2 || r.itemsFailed.Load() != 10 {
		t.Errorf("polite: %d attempts, %d items failed; want a give-up on the hintless refusal, then one accepted request",
			r.attempts.Load(), r.itemsFailed.Load())
	}
}

// TestFloodSenderIgnoresHints: a hint of an hour does not delay the resend.
func TestFloodSenderIgnoresHints(t *testing.T) {
	offer, stop := context.WithCancel(context.Background())
	defer stop()
	snd := &scriptedSender{refusals: 3, hint: time.Hour, onAccept: stop}
	r := runScripted(t, FloodRetry(), snd, offer)
	if r.attempts.Load() != 4 || r.itemsAcked.Load() != 10 {
		t.Errorf("%d attempts, %d acked; want 4, 10", r.attempts.Load(), r.itemsAcked.Load())
	}
}

// TestFloodSenderGivesUpWhenTheOfferEnds: a request refused forever is given up on (counted
// failed, never acknowledged) once the offer period is over, so the flood stops with it.
func TestFloodSenderGivesUpWhenTheOfferEnds(t *testing.T) {
	offer, stop := context.WithCancel(context.Background())
	defer stop()
	const countdown = 100
	snd := &scriptedSender{refusals: 1 << 30}
	snd.onAttempt = func() {
		if snd.attempts == countdown {
			stop()
		}
	}
	r := runScripted(t, FloodRetry(), snd, offer)
	if r.attempts.Load() != int64(countdown) || r.itemsFailed.Load() != 10 || r.itemsAcked.Load() != 0 {
		t.Errorf("%d attempts, %d failed, %d acked; want %d, 10, 0", r.attempts.Load(), r.itemsFailed.Load(), r.itemsAcked.Load(), countdown)
	}
}
