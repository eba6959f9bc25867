// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Connection rate and bulk throughput over TCP, for bench/socklb.sh.
 *
 *   connbench serve PORT [WORKERS]  the backend: answers "R" with "K",
 *                                   reads a "B" connection to its end;
 *                                   WORKERS processes accept (default 1)
 *   connbench rate HOST PORT SECS MAX [WORKERS]
 *                                   new connection per request, each of
 *                                   WORKERS processes (default 1) one at
 *                                   a time, for SECS seconds or MAX
 *                                   requests in all:
 *                                   "rate CONNS_PER_S conns N fails F"
 *   connbench bulk HOST PORT SECS   one connection sending for SECS:
 *                                   "bulk GBIT_PER_S bytes N"
 *
 * The client closes with a reset (SO_LINGER 0) after the answer, so no
 * side keeps TIME_WAIT and a long run does not run out of ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define MAX_WORKERS 64

static int serve(int port, int workers)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	static char buf[1 << 16];
	int l, c, one = 1, i;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 4096)) {
		perror("connbench serve");
		return 1;
	}
	/* The workers share the listening socket, each serving one
	 * connection at a time, and end with the parent (the process
	 * socklb.sh kills). */
	for (i = 1; i < workers; i++) {
		pid_t parent = getpid();

		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			break;
		}
	}
	for (;;) {
		c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		n = read(c, buf, 1);
		if (n == 1 && buf[0] == 'R') {
			if (write(c, "K", 1) == 1)
				while (read(c, buf, sizeof(buf)) > 0)
					;
		} else if (n == 1 && buf[0] == 'B') {
			while (read(c, buf, sizeof(buf)) > 0)
				;
		}
		close(c);
	}
}

static int dial(const struct sockaddr_in *a)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct timeval tv = { .tv_sec = 1 };	/* connect, read, write */
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (const void *)a, sizeof(*a))) {
		close(s);
		return -1;
	}
	return s;
}

struct tally {
	long ok, fails;
	double t;		/* seconds this worker ran */
};

/* One worker: a new connection per request, one at a time. */
static void rate_worker(const struct sockaddr_in *a, double secs, long max,
			struct tally *r)
{
	double t0 = now_s();
	char k;
	int s;

	do {
		s = dial(a);
		if (s >= 0 && write(s, "R", 1) == 1 && read(s, &k, 1) == 1)
			r->ok++;
		else
			r->fails++;
		if (s >= 0)
			close(s);
		r->t = now_s() - t0;
	} while (r->t < secs && r->ok + r->fails < max && r->fails < 10);
}

/* workers processes at once, each its share of max; the rate is all
 * their answers over the longest of their runs. */
static int rate(const struct sockaddr_in *a, double secs, long max,
		int workers)
{
	struct tally all = { 0 }, one;
	int fds[2], i, st;
	pid_t pid;

	if (pipe(fds)) {
		perror("connbench rate: pipe");
		return 1;
	}
	for (i = 0; i < workers; i++) {
		pid = fork();
		if (pid < 0) {
			perror("connbench rate: fork");
			return 1;
		}
		if (pid == 0) {
			memset(&one, 0, sizeof(one));
			rate_worker(a, secs, (max + workers - 1) / workers, &one);
			/* a write this small to a pipe is atomic */
			_exit(write(fds[1], &one, sizeof(one)) != sizeof(one));
		}
	}
	close(fds[1]);
	for (i = 0; i < workers; i++) {
		if (read(fds[0], &one, sizeof(one)) != sizeof(one)) {
			all.fails += 10;	/* a worker that did not report */
			continue;
		}
		all.ok += one.ok;
		all.fails += one.fails;
		if (one.t > all.t)
			all.t = one.t;
	}
	close(fds[0]);
	while (wait(&st) > 0)
		;
	printf("rate %.0f conns %ld fails %ld\n", all.t > 0 ? all.ok / all.t : 0,
	       all.ok, all.fails);
	return all.fails ? 1 : 0;
}

static int bulk(const struct sockaddr_in *a, double secs)
{
	static char buf[1 << 16];
	double t0, t = 0;
	long long sent = 0;
	ssize_t n;
	int s = dial(a);

	if (s < 0 || write(s, "B", 1) != 1) {
		perror("connbench bulk");
		return 1;
	}
	t0 = now_s();
	do {
		n = write(s, buf, sizeof(buf));
		if (n <= 0)
			break;
		sent += n;
		t = now_s() - t0;
	} while (t < secs);
	shutdown(s, SHUT_WR);
	printf("bulk %.3f bytes %lld\n", sent * 8 / t / 1e9, sent);
	close(s);
	return n <= 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int workers;

	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "serve")) {
		workers = argc == 4 ? atoi(argv[3]) : 1;
		if (workers < 1 || workers > MAX_WORKERS)
			goto usage;
		return serve(atoi(argv[2]), workers);
	}
	if (argc < 5 || inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
		goto usage;
	a.sin_port = htons(atoi(argv[3]));
	if (!strcmp(argv[1], "rate") && (argc == 6 || argc == 7)) {
		workers = argc == 7 ? atoi(argv[6]) : 1;
		if (workers < 1 || workers > MAX_WORKERS)
			goto usage;
		return rate(&a, atof(argv[4]), atol(argv[5]), workers);
	}
	if (!strcmp(argv[1], "bulk"))
		return bulk(&a, atof(argv[4]));
usage:
	fprintf(stderr, "usage: connbench serve PORT [WORKERS] | rate HOST PORT SECS MAX [WORKERS] | bulk HOST PORT SECS\n"
		"(WORKERS 1..%d)\n", MAX_WORKERS);
	return 2;
}
