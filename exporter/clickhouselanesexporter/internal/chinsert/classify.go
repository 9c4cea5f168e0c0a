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
	if e.err == nil {
		return "insert outcome unknown (it may have been committed)"
	}
	return "insert outcome unknown (it may have been committed): " + e.err.Error()
}

func (e *OutcomeUnknownError) Unwrap() error { return e.err }

// OutcomeUnknown reports whether err (or one it wraps) is an OutcomeUnknownError.
func OutcomeUnknown(err error) bool {
	var u *OutcomeUnknownError
	return errors.As(err, &u)
}

// NotSentError is an insert that failed before any of its data was written to the
// connection (dialling, the handshake, a dead kept connection, inferring the columns' types,
// encoding the first block): nothing can have been committed, so its rows may be retried in
// any batch, or given up, without risking a duplicate.
type NotSentError struct{ err error }

func (e *NotSentError) Error() string {
	if e.err == nil {
		return "insert not sent"
	}
	return "insert not sent: " + e.err.Error()
}

func (e *NotSentError) Unwrap() error { return e.err }

// Class is what a failed insert means for its rows.
type Class uint8

const (
	// ClassTransient: the rows are fine and the server may take them later (network errors,
	// timeouts, TOO_MANY_PARTS, memory limits, read-only replicas, unknown codes).
	ClassTransient Class = iota
	// ClassSchema: the table, the database or the server's configuration does not accept the
	// rows (a dropped table, a missing column, an unknown setting, an ALTER gone wrong). The
	// rows are fine: they are kept and retried until someone fixes the table.
	ClassSchema
	// ClassRows: ClickHouse rejected the rows themselves (a value it cannot parse or store,
	// a CHECK constraint): sending them again can never succeed.
	ClassRows
)

// Classify says what err means for the rows of the insert that returned it, and the
// ClickHouse exception code (0 when err is not a server exception). When in doubt the answer
// is not ClassRows, because dropping good data is worse than retrying bad data until a
// breaker trips: only errors about the values of the rows are.
func Classify(err error) (Class, proto.Error) {
	if err == nil {
		return ClassTransient, 0
	}
	var se *SchemaError
	asSchema := errors.As(err, &se)
	exc, isException := ch.AsException(err)
	var code proto.Error
	if isException {
		code = exc.Code
	}
	switch {
	case asSchema:
		return ClassSchema, code
	case !isException:
		return ClassTransient, 0
	}
	if _, ok := dataCodes[code]; ok {
		return ClassRows, code
	}
	if _, ok := schemaCodes[code]; ok {
		return ClassSchema, code
	}
	return ClassTransient, code
}

// Permanent reports whether err means ClickHouse rejected the rows themselves, so sending
// them again can never succeed, and the exception code.
func Permanent(err error) (permanent bool, code proto.Error) {
	c, code := Classify(err)
	return c == ClassRows, code
}

// IsSchema reports whether err means the table or the server configuration does not accept
// rows that are themselves fine.
func IsSchema(err error) bool {
	c, _ := Classify(err)
	return c == ClassSchema
}

// SchemaError is a failure of the table rather than of the rows, found by the exporter itself
// (a table or required column missing when its columns were read, a failed CREATE): it is
// classified ClassSchema whatever it wraps.
type SchemaError struct {
	Table string // `database`.`table`, or the statement's name for DDL
	Err   error
}

func (e *SchemaError) Error() string {
	return e.Err.Error() + " (the table or the server configuration, not the rows, is at fault: the rows are kept and retried until it is fixed)"
}

func (e *SchemaError) Unwrap() error { return e.Err }

// dataCodes are exceptions about the values of the rows.
var dataCodes = map[proto.Error]struct{}{
	proto.ErrCannotParseText:                     {},
	proto.ErrCannotParseInputAssertionFailed:     {},
	proto.ErrCannotParseDate:                     {},
	proto.ErrCannotParseDatetime:                 {},
	proto.ErrCannotParseNumber:                   {},
	proto.ErrCannotParseUUID:                     {},
	proto.ErrCannotParseBool:                     {},
	proto.ErrCannotReadMapFromText:               {},
	proto.ErrIncorrectData:                       {},
	proto.ErrTooLargeArraySize:                   {},
	proto.ErrTooLargeStringSize:                  {},
	proto.ErrSizesOfArraysDontMatch:              {},
	proto.ErrSizesOfNestedColumnsAreInconsistent: {},
	proto.ErrValueIsOutOfRangeOfDataType:         {},
	proto.ErrCannotInsertNullInOrdinaryColumn:    {},
	proto.ErrViolatedConstraint:                  {},
	proto.ErrDecimalOverflow:                     {},
	proto.ErrUnknownElementOfEnum:                {},
}

// schemaCodes are exceptions about the table, the database or the server's configuration:
// what the table is, not what the rows hold. Listed so they are counted and reported as
// schema errors; any other code is transient too.
var schemaCodes = map[proto.Error]struct{}{
	proto.ErrUnknownTable:               {},
	proto.ErrUnknownDatabase:            {},
	proto.ErrTableIsDropped:             {},
	proto.ErrUnknownStorage:             {},
	proto.ErrNoSuchColumnInTable:        {},
	proto.ErrThereIsNoColumn:            {},
	proto.ErrNotFoundColumnInBlock:      {},
	proto.ErrDuplicateColumn:            {},
	proto.ErrIncorrectNumberOfColumns:   {},
	proto.ErrNumberOfColumnsDoesntMatch: {},
	proto.ErrSizesOfColumnsDoesntMatch:  {},
	proto.ErrUnknownIdentifier:          {},
	proto.ErrUnknownType:                {},
	proto.ErrUnknownFunction:            {},
	proto.ErrIllegalColumn:              {},
	proto.ErrIllegalTypeOfArgument:      {},
	proto.ErrIllegalSyntaxForDataType:   {},
	proto.ErrTypeMismatch:               {},
	proto.ErrCannotConvertType:          {},
	proto.ErrIncompatibleColumns:        {},
	proto.ErrNoCommonType:               {},
	proto.ErrBadArguments:               {},
	proto.ErrSyntaxError:                {},
	proto.ErrUnknownSetting:             {},
	proto.ErrAccessDenied:               {},
	proto.ErrReadonly:                   {},
}
