package backpressure

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestClientMessageIsOneSentence: a client is told what went wrong once, without the Go error
// chain's "Permanent error: rpc error: code = ... desc = " prefixes, whichever way the
// refusal was wrapped on its way to the receiver.
func TestClientMessageIsOneSentence(t *testing.T) {
	const sentence = "insert into otel_logs: VIOLATED_CONSTRAINT: Constraint `no_poison` is violated"
	for name, err := range map[string]error{
		"Invalid":         Invalid(sentence),
		"wrapped Invalid": fmt.Errorf("lane logs: %w", Invalid(sentence)),
		"Unavailable":     Unavailable(sentence, time.Second),
		"QueueFull":       QueueFull(sentence, time.Second),
	} {
		t.Run(name, func(t *testing.T) {
			r := Classify(err, time.Second)
			if r.Message != sentence || r.GRPC.Message() != sentence {
				t.Errorf("client sees %q (gRPC %q), want %q", r.Message, r.GRPC.Message(), sentence)
			}
			if strings.Contains(r.Message, "rpc error") || strings.Contains(r.Message, "Permanent error") {
				t.Errorf("prefix repeated: %q", r.Message)
			}
		})
	}
}
