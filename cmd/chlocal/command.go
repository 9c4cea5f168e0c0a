package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// runCommand runs command next to ClickHouse and returns its exit status.
func runCommand(sigs <-chan os.Signal, l *local, env, command []string) int {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group, so a terminal Ctrl-C reaches only us and the
		// command gets exactly one forwarded signal, delivered to its whole
		// group (this matters for `go run`, whose child does the work).
		Setpgid: true,
		// If we are killed outright, let the command shut down too.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "chlocal: %v\n", err)
		return 127
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	died := l.died
	for {
		select {
		case sig := <-sigs:
			_ = syscall.Kill(-cmd.Process.Pid, sig.(syscall.Signal))
		case <-died:
			// Keep the command running: it should cope with an outage.
			fmt.Fprintf(os.Stderr, "chlocal: warning: ClickHouse exited unexpectedly; log tail:\n%s\n", l.logTail())
			died = nil
		case err := <-exited:
			return exitCode(err)
		}
	}
}

// exitCode maps a Wait error to a shell-style status (128+n for signal n).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "chlocal: %v\n", err)
		return 1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}
