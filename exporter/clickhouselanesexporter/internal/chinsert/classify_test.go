package chinsert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/ch-go/proto"
)

// TestPermanentOnlyForBadDataOrSchema checks the classification with real exception codes, also
// when wrapped the way the insert path wraps them.
func TestPermanentOnlyForBadDataOrSchema(t *testing.T) {
	exc := func(c proto.Error) error {
		return fmt.Errorf("insert otel_traces: %w", &ch.Exception{Code: c, Name: c.String(), Message: "x"})
	}
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"TYPE_MISMATCH", exc(proto.ErrTypeMismatch), true},
		{"NO_SUCH_COLUMN_IN_TABLE", exc(proto.ErrNoSuchColumnInTable), true},
		{"THERE_IS_NO_COLUMN", exc(proto.ErrThereIsNoColumn), true},
		{"UNKNOWN_TABLE", exc(proto.ErrUnknownTable), true},
		{"CANNOT_PARSE_TEXT", exc(proto.ErrCannotParseText), true},
		{"CANNOT_CONVERT_TYPE", exc(proto.ErrCannotConvertType), true},
		{"ILLEGAL_COLUMN", exc(proto.ErrIllegalColumn), true},
		{"SIZES_OF_NESTED_COLUMNS_ARE_INCONSISTENT", exc(proto.ErrSizesOfNestedColumnsAreInconsistent), true},
		{"TOO_MANY_PARTS", exc(proto.ErrTooManyParts), false},
		{"MEMORY_LIMIT_EXCEEDED", exc(proto.ErrMemoryLimitExceeded), false},
		{"TIMEOUT_EXCEEDED", exc(proto.ErrTimeoutExceeded), false},
		{"TOO_MANY_SIMULTANEOUS_QUERIES", exc(proto.ErrTooManySimultaneousQueries), false},
		{"TABLE_IS_READ_ONLY", exc(proto.ErrTableIsReadOnly), false},
		{"READONLY", exc(proto.ErrReadonly), false},
		{"NETWORK_ERROR", exc(proto.ErrNetworkError), false},
		{"SOCKET_TIMEOUT", exc(proto.ErrSocketTimeout), false},
		{"KEEPER_EXCEPTION", exc(proto.ErrKeeperException), false},
		{"ACCESS_DENIED", exc(proto.ErrAccessDenied), false},
		{"unknown code", exc(proto.Error(99999)), false},
		{"connection refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, false},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), false},
		{"EOF", io.ErrUnexpectedEOF, false},
		{"plain", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code := Permanent(tc.err)
			if got != tc.permanent {
				t.Errorf("Permanent = %v (code %d), want %v", got, code, tc.permanent)
			}
		})
	}
}

func TestOutcomeUnknownSurvivesWrapping(t *testing.T) {
	err := fmt.Errorf("insert into otel_logs: %w", &OutcomeUnknownError{err: context.DeadlineExceeded})
	if !OutcomeUnknown(err) {
		t.Fatal("a wrapped OutcomeUnknownError must be recognised")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the cause must stay visible")
	}
	if OutcomeUnknown(errors.New("dial tcp: connection refused")) {
		t.Fatal("a plain error is not an unknown outcome")
	}
}
