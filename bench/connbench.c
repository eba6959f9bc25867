// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Connection rate and bulk throughput over TCP, for bench/socklb.sh.
 *
 *   connbench serve PORT            the backend: answers "R" with "K",
 *                                   reads a "B" connection to its end
 *   connbench rate HOST PORT SECS MAX
 *                                   new connection per request, one at a
 *                                   time, for SECS seconds or MAX requests:
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
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	static char buf[1 << 16];
	int l, c, one = 1;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1024)) {
		perror("connbench serve");
		return 1;
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

static int rate(const struct sockaddr_in *a, double secs, long max)
{
	double t0 = now_s(), t;
	long ok = 0, fails = 0;
	char k;
	int s;

	do {
		s = dial(a);
		if (s >= 0 && write(s, "R", 1) == 1 && read(s, &k, 1) == 1)
			ok++;
		else
			fails++;
		if (s >= 0)
			close(s);
		t = now_s() - t0;
	} while (t < secs && ok + fails < max && fails < 10);
	printf("rate %.0f conns %ld fails %ld\n", ok / t, ok, fails);
	return fails ? 1 : 0;
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

	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc < 5 || inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: connbench serve PORT | rate HOST PORT SECS MAX | bulk HOST PORT SECS\n");
		return 2;
	}
	a.sin_port = htons(atoi(argv[3]));
	if (!strcmp(argv[1], "rate") && argc == 6)
		return rate(&a, atof(argv[4]), atol(argv[5]));
	if (!strcmp(argv[1], "bulk"))
		return bulk(&a, atof(argv[4]));
	return 2;
}
