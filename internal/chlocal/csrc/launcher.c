/*
 * chlocal launcher: runs clickhouse-local from libchdb.so as a child process
 * of a Go program, and makes sure it never outlives that program.
 *
 * usage: chlocal-launcher /path/to/libchdb.so [clickhouse-local options...]
 *
 * The library is loaded with dlopen() rather than linked, so this file
 * compiles with nothing but a C compiler and libc, and one binary works with
 * any libchdb.so path.
 *
 * Two independent guards stop orphans:
 *   1. PR_SET_PDEATHSIG(SIGKILL): the kernel kills us when the parent goes.
 *      getppid() is checked afterwards because the parent may have died
 *      between fork() and prctl(), in which case no signal would ever come.
 *      (The kernel ties PDEATHSIG to the parent *thread*, not the process,
 *      which is why there is a second guard.)
 *   2. A lifeline pipe: if CHLOCAL_LIFELINE_FD names an inherited file
 *      descriptor, a thread blocks reading it. The parent holds the write end
 *      and never writes, so read() returns only once the parent process is
 *      gone and the kernel has closed its end.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

/* chdb_query_cmdline returns an opaque result object, not an exit code: the
 * statements' output lands in its buffer. Query errors are printed to stderr
 * by the library itself. */
typedef void *(*query_cmdline_fn)(int, char **);
typedef char *(*result_buffer_fn)(void *);
typedef size_t (*result_length_fn)(void *);
typedef const char *(*result_error_fn)(void *);

static void *watch_lifeline(void *arg) {
	int fd = (int)(long)arg;
	char b;
	for (;;) {
		ssize_t n = read(fd, &b, 1);
		if (n == 0)
			break; /* EOF: the parent is gone */
		if (n < 0 && errno != EINTR)
			break; /* broken descriptor: fail safe, do not outlive */
	}
	kill(getpid(), SIGKILL);
	return NULL;
}

static void start_lifeline(void) {
	const char *s = getenv("CHLOCAL_LIFELINE_FD");
	if (s == NULL || *s == '\0')
		return;
	int fd = atoi(s);
	/* Keep the pipe away from anything ClickHouse itself might spawn. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	pthread_t t;
	if (pthread_create(&t, NULL, watch_lifeline, (void *)(long)fd) != 0) {
		perror("chlocal-launcher: pthread_create");
		exit(70);
	}
	pthread_detach(t);
}

int main(int argc, char **argv) {
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		perror("chlocal-launcher: prctl(PR_SET_PDEATHSIG)");
		return 70;
	}
	if (getppid() != parent)
		return 71; /* parent died before prctl took effect */
	start_lifeline();

	if (argc < 2) {
		fprintf(stderr, "usage: %s LIBCHDB.so [clickhouse-local options...]\n", argv[0]);
		return 64;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		fprintf(stderr, "chlocal-launcher: dlopen: %s\n", dlerror());
		return 72;
	}
	query_cmdline_fn query = (query_cmdline_fn)dlsym(lib, "chdb_query_cmdline");
	if (query == NULL) {
		fprintf(stderr, "chlocal-launcher: dlsym(chdb_query_cmdline): %s\n", dlerror());
		return 72;
	}
	result_buffer_fn buffer = (result_buffer_fn)dlsym(lib, "chdb_result_buffer");
	result_length_fn length = (result_length_fn)dlsym(lib, "chdb_result_length");
	result_error_fn error = (result_error_fn)dlsym(lib, "chdb_result_error");

	/* The library wants a conventional argv: a program name, then options. */
	argv[1] = "clickhouse-local";
	void *res = query(argc - 1, argv + 1);
	if (res == NULL) {
		fprintf(stderr, "chlocal-launcher: chdb_query_cmdline returned no result\n");
		return 1;
	}
	if (error != NULL && error(res) != NULL) {
		fprintf(stderr, "chlocal-launcher: %s\n", error(res));
		return 1;
	}
	if (buffer != NULL && length != NULL && length(res) > 0)
		fwrite(buffer(res), 1, length(res), stdout);
	return 0;
}
