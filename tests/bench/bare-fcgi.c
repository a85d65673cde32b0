/*
 * bare-fcgi.c: the ceiling reference for tests/bench/run-healthz.
 *
 * A minimal threaded libfcgi responder: N threads each loop on
 * FCGX_Accept_r and answer every request with a fixed {"status":"ok"},
 * the same body verdictd's /healthz returns. No routing, no parsing, no
 * logging, no allocation per request: what nginx -> libfcgi costs on this
 * machine, and so the most verdictd could reach with the same library.
 *
 *   bare-fcgi SOCKET_PATH [THREADS [BACKLOG]]
 *
 * Listens on the unix socket SOCKET_PATH (mode 0660, a stale socket is
 * removed first), runs in the foreground; SIGTERM, SIGINT or SIGHUP end it
 * at once (libfcgi's own SIGTERM handler only flags a shutdown that threads
 * blocked in accept() never see, so the main thread waits for the signal).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

static int listen_fd;

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 15\r\n"
    "\r\n"
    "{\"status\":\"ok\"}";

static void *
worker(void *arg)
{
	FCGX_Request req;

	(void)arg;
	if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	const char *path;
	int nthreads = 4, backlog = 1024;
	pthread_t *tids;
	sigset_t set;
	int sig = 0;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: bare-fcgi SOCKET_PATH [THREADS [BACKLOG]]\n");
		return 2;
	}
	path = argv[1];
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (argc > 3)
		backlog = atoi(argv[3]);
	if (nthreads < 1 || nthreads > 1024 || backlog < 1) {
		fprintf(stderr, "bare-fcgi: bad THREADS or BACKLOG\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "bare-fcgi: FCGX_Init failed\n");
		return 1;
	}
	unlink(path);
	if ((listen_fd = FCGX_OpenSocket(path, backlog)) < 0) {
		fprintf(stderr, "bare-fcgi: cannot listen on %s\n", path);
		return 1;
	}
	if (chmod(path, 0660) == -1) {
		perror("bare-fcgi: chmod");
		return 1;
	}
	/* Blocked here, inherited by the workers, taken by sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((tids = calloc((size_t)nthreads, sizeof(*tids))) == NULL)
		return 1;
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "bare-fcgi: pthread_create failed\n");
			return 1;
		}
	}
	fprintf(stderr, "bare-fcgi: listening on %s with %d threads\n", path, nthreads);
	while (sigwait(&set, &sig) != 0)
		;
	/* No request state worth finishing: leave without joining the workers. */
	unlink(path);
	_exit(0);
}
