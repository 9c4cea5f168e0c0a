package backpressure

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestMessagesAreAlwaysValidUTF8AndNeverEmpty(t *testing.T) {
	for _, r := range []Response{BadRequest("malformed: \xaf"), TooLarge(""), Refused(ReasonOverloaded, "\xff", 0)} {
		assert.True(t, utf8.ValidString(r.Message))
		assert.NotEmpty(t, r.Message)
		assert.Equal(t, r.Message, r.GRPC.Message())
	}
}
