package chlocal

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// proc is one run of the launcher. A Server owns a sequence of them (one per
// Restart); each is started once and waited for exactly once.
type proc struct {
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has exited and been reaped
	waitErr   error         // valid after done is closed
	lifeline  *os.File      // write end of the lifeline pipe; see launcher.c
	log       *os.File
	logOffset int64 // size of the log before this run, for error tails
}

// spawn starts the launcher in its own process group with stdout/stderr
// appended to logPath (and copied to tee, if non-nil).
func spawn(launcher string, args []string, dir, logPath string, tee io.Writer) (*proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("chlocal: open server log: %w", err)
	}
	off, _ := log.Seek(0, io.SeekEnd)
	// os.Pipe sets O_CLOEXEC, so the write end stays in this process only
	// and is not inherited by unrelated children.
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("chlocal: lifeline pipe: %w", err)
	}
	cmd := exec.Command(launcher, args...)
	// clickhouse-local reads config.xml from its working directory; running
	// in the data dir keeps a stray config in the caller's cwd out.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHLOCAL_LIFELINE_FD=3")
	cmd.ExtraFiles = []*os.File{lifeR} // becomes fd 3
	var out io.Writer = log
	if tee != nil {
		out = io.MultiWriter(log, tee)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a terminal's Ctrl-C goes to the Go program,
		// which then stops ClickHouse in order, and Pause/Resume can signal
		// the whole group.
		Setpgid: true,
		// Also set by the launcher itself; setting it here too covers the
		// window before the launcher's main() runs.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		_ = lifeR.Close()
		_ = lifeW.Close()
		_ = log.Close()
		return nil, fmt.Errorf("chlocal: start launcher: %w", err)
	}
	_ = lifeR.Close() // the child has its copy
	p := &proc{cmd: cmd, done: make(chan struct{}), lifeline: lifeW, log: log, logOffset: off}
	go func() {
		p.waitErr = cmd.Wait()
		_ = p.lifeline.Close()
		_ = p.log.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process group. A group that is already gone is
// not an error: callers only want the process to be in the signalled state.
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return nil
	}
	err := syscall.Kill(-p.cmd.Process.Pid, sig)
	if err != nil && err != syscall.ESRCH {
		return fmt.Errorf("chlocal: signal %v: %w", sig, err)
	}
	return nil
}
