package chinsert

import (
	"errors"

	"github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/ch-go/proto"
)

// OutcomeUnknownError is an insert that failed after its data was sent, without an answer
// from the server: it may have been committed. Only sending the very same block again
// (same deduplication token) settles it without risking a duplicate. A failure to connect,
// or an exception from the server, is not one: then nothing was written.
type OutcomeUnknownError struct{ err error }

func (e *OutcomeUnknownError) Error() string {
	return "insert outcome unknown (it may have been committed): " + e.err.Error()
}

func (e *OutcomeUnknownError) Unwrap() error { return e.err }

// OutcomeUnknown reports whether err (or one it wraps) is an OutcomeUnknownError.
func OutcomeUnknown(err error) bool {
	var u *OutcomeUnknownError
	return errors.As(err, &u)
}

// Permanent reports whether err means ClickHouse rejected the data or the schema itself, so
// sending the same rows again can never succeed. Everything else — network errors, timeouts,
// TOO_MANY_PARTS, memory limits, read-only replicas, unknown codes — is transient: the rows are
// fine and a later attempt may land. When in doubt the answer is transient, because dropping
// good data is worse than retrying bad data until a breaker trips.
//
// code is the ClickHouse exception code, or 0 when err is not a server exception.
func Permanent(err error) (permanent bool, code proto.Error) {
	exc, ok := ch.AsException(err)
	if !ok {
		return false, 0
	}
	_, permanent = permanentCodes[exc.Code]
	return permanent, exc.Code
}

// permanentCodes are exceptions about the data or the schema: the rows do not fit the table.
var permanentCodes = map[proto.Error]struct{}{
	proto.ErrCannotParseText:                     {},
	proto.ErrIncorrectNumberOfColumns:            {},
	proto.ErrThereIsNoColumn:                     {},
	proto.ErrSizesOfColumnsDoesntMatch:           {},
	proto.ErrNotFoundColumnInBlock:               {},
	proto.ErrDuplicateColumn:                     {},
	proto.ErrNoSuchColumnInTable:                 {},
	proto.ErrNumberOfColumnsDoesntMatch:          {},
	proto.ErrCannotParseDate:                     {},
	proto.ErrCannotParseDatetime:                 {},
	proto.ErrIllegalTypeOfArgument:               {},
	proto.ErrIllegalColumn:                       {},
	proto.ErrUnknownIdentifier:                   {},
	proto.ErrUnknownType:                         {},
	proto.ErrTypeMismatch:                        {},
	proto.ErrUnknownTable:                        {},
	proto.ErrSyntaxError:                         {},
	proto.ErrCannotConvertType:                   {},
	proto.ErrCannotParseNumber:                   {},
	proto.ErrUnknownDatabase:                     {},
	proto.ErrIncorrectData:                       {},
	proto.ErrTooLargeArraySize:                   {},
	proto.ErrTooLargeStringSize:                  {},
	proto.ErrSizesOfArraysDontMatch:              {},
	proto.ErrValueIsOutOfRangeOfDataType:         {},
	proto.ErrCannotInsertNullInOrdinaryColumn:    {},
	proto.ErrSizesOfNestedColumnsAreInconsistent: {},
	proto.ErrViolatedConstraint:                  {},
	proto.ErrCannotParseUUID:                     {},
	proto.ErrIllegalSyntaxForDataType:            {},
	proto.ErrUnknownSetting:                      {},
	proto.ErrCannotReadMapFromText:               {},
	proto.ErrCannotParseBool:                     {},
	proto.ErrIncompatibleColumns:                 {},
	proto.ErrBadArguments:                        {},
	proto.ErrNoCommonType:                        {},
	proto.ErrDecimalOverflow:                     {},
}
