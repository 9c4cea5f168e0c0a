package clickhouselanesexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLaneDirNameRoundTrips(t *testing.T) {
	for _, label := range []string{"traces", "acme", "Acme", "../etc", ".", "..", "a/b", "tenant id", "é", "x%41", overflowLane} {
		name := laneDirName(label)
		assert.NotContains(t, name, "/")
		assert.NotContains(t, name, ".")
		got, ok := laneFromDirName(name)
		assert.True(t, ok, name)
		assert.Equal(t, label, got)
	}
	assert.Equal(t, "acme-prod_1", laneDirName("acme-prod_1"), "plain keys stay readable")
	assert.NotEqual(t, laneDirName("Acme"), laneDirName("acme"), "no collision on case-insensitive file systems")
}

func TestLaneFromDirNameRefusesForeignNames(t *testing.T) {
	for _, name := range []string{"", "LOCK", "tmp.1", "%4", "%zz", "%61"} { // %61 is "a", which laneDirName writes plainly
		_, ok := laneFromDirName(name)
		assert.False(t, ok, name)
	}
}
