/* predlog.h: the durable prediction log — rows from concurrent requests share one commit. */
#ifndef VERDICT_PREDLOG_H
#define VERDICT_PREDLOG_H

#include <stddef.h>

#include "util.h"

struct predlog_row {
	long long version_id;
	long long user_id;          /* 0 = none */
	const char *inputs;         /* JSON text */
	const char *output;         /* JSON text */
	int latency_us;
	const char *request_id;
	long long id;               /* set once committed */
};

/* Rows waiting for their commit now (a gauge; takes the queue lock briefly). */
size_t predlog_queue_rows(void);

/* Starts the writer thread with its own connection. 0 or -1. */
int predlog_start(const char *conninfo, size_t max_batch) WUR;
void predlog_stop(void);

/*
 * Queues rows[0..n) and blocks until the batch holding them has committed:
 * then every rows[i].id is set and 0 is returned. -1 when the rows could
 * not be committed (Postgres away, or no commit within timeout_ms): the
 * caller answers 503, never a prediction without its row.
 */
int predlog_write(struct predlog_row *rows, size_t n, int timeout_ms) WUR;

#endif
