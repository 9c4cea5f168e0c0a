package sluicereceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func TestRefusalFloodLogsOnceAPerReasonPerInterval(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	l := newRefusalLog(zap.New(core))
	over := backpressure.Refused(backpressure.ReasonOverloaded, "full", 0)
	for range 1000 {
		l.log(over, "traces", "grpc")
	}
	l.log(backpressure.BadRequest("bad"), "logs", "http")
	assert.Equal(t, 2, logs.Len(), "one line per reason")
	assert.Equal(t, "overloaded", logs.All()[0].ContextMap()["reason"])
	assert.Equal(t, "invalid", logs.All()[1].ContextMap()["reason"])
}
