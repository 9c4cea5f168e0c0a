package chlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// errNoNPM is returned when npm is needed (first use on a machine) but absent.
var errNoNPM = errors.New("chlocal: npm not found on PATH; install Node.js/npm (needed once to locate ClickHouse)")

// npmDist asks npm where the tarball of spec ("name@version") lives. Going
// through npm, rather than hard-coding registry.npmjs.org, honours the
// user's registry, mirror and proxy configuration in .npmrc.
func npmDist(ctx context.Context, spec, dir string) (tarball, integrity string, err error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", "", errNoNPM
	}
	cmd := exec.CommandContext(ctx, npm, "view", spec, "dist", "--json")
	// Run outside any project so a checkout's package.json/.npmrc is not involved.
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("chlocal: npm view %s failed: %w: %s", spec, err, strings.TrimSpace(stderr.String()))
	}
	var dist struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &dist); err != nil {
		return "", "", fmt.Errorf("chlocal: npm view %s: unexpected output %q: %w", spec, stdout.String(), err)
	}
	if dist.Tarball == "" || dist.Integrity == "" {
		return "", "", fmt.Errorf("chlocal: npm view %s: no tarball/integrity in %q", spec, stdout.String())
	}
	return dist.Tarball, dist.Integrity, nil
}
