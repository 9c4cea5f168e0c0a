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

// TestOnlyBadRowsArePermanent checks the classification with real exception codes, also when
// wrapped the way the insert path wraps them: only errors about the values of the rows are
// permanent; the table's and the server configuration's are schema errors, which keep the rows.
func TestOnlyBadRowsArePermanent(t *testing.T) {
	exc := func(c proto.Error) error {
		return fmt.Errorf("insert otel_traces: %w", &ch.Exception{Code: c, Name: c.String(), Message: "x"})
	}
	for _, tc := range []struct {
		name  string
		err   error
		class Class
	}{
		{"CANNOT_PARSE_TEXT", exc(proto.ErrCannotParseText), ClassRows},
		{"VIOLATED_CONSTRAINT", exc(proto.ErrViolatedConstraint), ClassRows},
		{"VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE", exc(proto.ErrValueIsOutOfRangeOfDataType), ClassRows},
		{"SIZES_OF_NESTED_COLUMNS_ARE_INCONSISTENT", exc(proto.ErrSizesOfNestedColumnsAreInconsistent), ClassRows},
		{"UNKNOWN_TABLE", exc(proto.ErrUnknownTable), ClassSchema},
		{"UNKNOWN_DATABASE", exc(proto.ErrUnknownDatabase), ClassSchema},
		{"NO_SUCH_COLUMN_IN_TABLE", exc(proto.ErrNoSuchColumnInTable), ClassSchema},
		{"UNKNOWN_SETTING", exc(proto.ErrUnknownSetting), ClassSchema},
		{"SYNTAX_ERROR", exc(proto.ErrSyntaxError), ClassSchema},
		{"THERE_IS_NO_COLUMN", exc(proto.ErrThereIsNoColumn), ClassSchema},
		{"NOT_FOUND_COLUMN_IN_BLOCK", exc(proto.ErrNotFoundColumnInBlock), ClassSchema},
		{"UNKNOWN_IDENTIFIER", exc(proto.ErrUnknownIdentifier), ClassSchema},
		{"UNKNOWN_TYPE", exc(proto.ErrUnknownType), ClassSchema},
		{"ILLEGAL_COLUMN", exc(proto.ErrIllegalColumn), ClassSchema},
		{"TYPE_MISMATCH", exc(proto.ErrTypeMismatch), ClassSchema},
		{"CANNOT_CONVERT_TYPE", exc(proto.ErrCannotConvertType), ClassSchema},
		{"ACCESS_DENIED", exc(proto.ErrAccessDenied), ClassSchema},
		{"SchemaError around a plain error", &SchemaError{Table: "`otel`.`otel_logs`", Err: errors.New("no column Timestamp")}, ClassSchema},
		{"TOO_MANY_PARTS", exc(proto.ErrTooManyParts), ClassTransient},
		{"MEMORY_LIMIT_EXCEEDED", exc(proto.ErrMemoryLimitExceeded), ClassTransient},
		{"TIMEOUT_EXCEEDED", exc(proto.ErrTimeoutExceeded), ClassTransient},
		{"TOO_MANY_SIMULTANEOUS_QUERIES", exc(proto.ErrTooManySimultaneousQueries), ClassTransient},
		{"TABLE_IS_READ_ONLY", exc(proto.ErrTableIsReadOnly), ClassTransient},
		{"NETWORK_ERROR", exc(proto.ErrNetworkError), ClassTransient},
		{"SOCKET_TIMEOUT", exc(proto.ErrSocketTimeout), ClassTransient},
		{"KEEPER_EXCEPTION", exc(proto.ErrKeeperException), ClassTransient},
		{"unknown code", exc(proto.Error(99999)), ClassTransient},
		{"connection refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ClassTransient},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), ClassTransient},
		{"EOF", io.ErrUnexpectedEOF, ClassTransient},
		{"plain", errors.New("boom"), ClassTransient},
		{"nil", nil, ClassTransient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code := Classify(tc.err)
			if got != tc.class {
				t.Errorf("Classify = %d (code %d), want %d", got, code, tc.class)
			}
			if permanent, _ := Permanent(tc.err); permanent != (tc.class == ClassRows) {
				t.Errorf("Permanent = %v", permanent)
			}
			if IsSchema(tc.err) != (tc.class == ClassSchema) {
				t.Errorf("IsSchema = %v", !IsSchema(tc.err))
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
