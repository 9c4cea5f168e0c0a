package wal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendRefusesWhenTheLaneShareIsUsedUntilSaveStateFreesIt(t *testing.T) {
	size := recordSize(100)
	l, _ := openLog(t, t.TempDir(), Options{SegmentBytes: 2 * size, MaxBytes: 4 * size, Sync: SyncNever})
	appendN(t, l, 0, 4, 100)
	_, err := l.Append(payload(4, 100))
	require.ErrorIs(t, err, ErrFull)

	require.NoError(t, l.SaveState(State{Committed: 2}))
	appendN(t, l, 4, 2, 100)
	_, err = l.Append(payload(6, 100))
	require.ErrorIs(t, err, ErrFull)
	// The refused record burnt no index.
	assert.Equal(t, Index(6), l.Stats().LastIndex)
}

func TestAppendRefusesWhenTheSharedBudgetIsUsed(t *testing.T) {
	size := recordSize(100)
	budget := NewBudget(3 * size)
	a, _ := openLog(t, t.TempDir(), Options{SegmentBytes: size, Budget: budget, Sync: SyncNever})
	b, _ := openLog(t, t.TempDir(), Options{Budget: budget, Sync: SyncNever})
	appendN(t, a, 0, 2, 100)
	appendN(t, b, 0, 1, 100)
	_, err := b.Append(payload(1, 100))
	require.ErrorIs(t, err, ErrFull)
	_, err = a.Append(payload(2, 100))
	require.ErrorIs(t, err, ErrFull)

	require.NoError(t, a.SaveState(State{Committed: 1}))
	appendN(t, b, 1, 1, 100)
	assert.Equal(t, 3*size, budget.Used())
}

func TestARecordThatCanNeverFitIsTooLarge(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{MaxBytes: 1000, Sync: SyncNever})
	_, err := l.Append(make([]byte, 1000))
	require.ErrorIs(t, err, ErrTooLarge)
	require.NotErrorIs(t, err, ErrFull)
}

func TestOpenChargesWhatItFindsEvenBeyondTheBudget(t *testing.T) {
	dir := t.TempDir()
	size := recordSize(100)
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	appendN(t, l, 0, 3, 100)
	require.NoError(t, l.Close())

	budget := NewBudget(2 * size)
	l, rec := openLog(t, dir, Options{Budget: budget, Sync: SyncNever})
	assert.Equal(t, 3, rec.Records)
	assert.Equal(t, 3*size, budget.Used())
	_, err := l.Append(payload(3, 100))
	require.ErrorIs(t, err, ErrFull)
	require.NoError(t, l.SaveState(State{Committed: 3}))
	assert.Zero(t, budget.Used())
}

func TestBudgetReleasingMoreThanChargedPanics(t *testing.T) {
	b := NewBudget(10)
	require.True(t, b.tryReserve(10))
	require.False(t, b.tryReserve(1))
	assert.Panics(t, func() { b.release(11) })
}
