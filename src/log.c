/* log.c: JSON-lines access and event log. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;

int
log_open(const char *path)
{
	int fd;

	if (path == NULL || !strcmp(path, "-")) {
		log_fd = 2;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	log_fd = fd;
	return 0;
}

int
json_escape(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];

		switch (c) {
		case '"': if (buf_add(out, "\\\"", 2) == -1) return -1; continue;
		case '\\': if (buf_add(out, "\\\\", 2) == -1) return -1; continue;
		case '/': if (buf_add(out, "\\/", 2) == -1) return -1; continue;
		case '\n': if (buf_add(out, "\\n", 2) == -1) return -1; continue;
		case '\r': if (buf_add(out, "\\r", 2) == -1) return -1; continue;
		case '\t': if (buf_add(out, "\\t", 2) == -1) return -1; continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			if (buf_add(out, esc, 6) == -1)
				return -1;
		} else if (buf_addc(out, (char)c) == -1)
			return -1;
	}
	return 0;
}

static void
timestamp(char *dst, size_t n)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	/* strftime + a bounded microsecond field: no truncation warnings. */
	size_t k = strftime(dst, n, "%Y-%m-%dT%H:%M:%S", &tm);

	snprintf(dst + k, n - k, ".%06dZ", (int)(tv.tv_usec % 1000000));
}

static void
emit(struct buf *b)
{
	if (buf_addc(b, '\n') == 0) {
		ssize_t n = write(log_fd, b->p, b->len);
		(void)n;
	}
}

void
log_request(const struct log_request *r)
{
	char line[1024], ts[40];
	struct buf b = { line, 0, sizeof(line), sizeof(line) - 2 };
	size_t plen = strlen(r->path);

	/* A stack buffer: logging a request allocates nothing. */
	timestamp(ts, sizeof(ts));
	if (plen > 256)
		plen = 256;
	if (buf_printf(&b, "{\"time\":\"%s\",\"method\":\"", ts) == -1 ||
	    json_escape(&b, r->method, strlen(r->method)) == -1 ||
	    buf_adds(&b, "\",\"path\":\"") == -1 ||
	    json_escape(&b, r->path, plen) == -1 ||
	    buf_adds(&b, "\",\"route\":") == -1)
		return;
	if (r->route != NULL) {
		if (buf_addc(&b, '"') == -1 ||
		    json_escape(&b, r->route, strlen(r->route)) == -1 ||
		    buf_addc(&b, '"') == -1)
			return;
	} else if (buf_adds(&b, "null") == -1)
		return;
	if (buf_printf(&b, ",\"status\":%d,\"duration_us\":%lld,\"bytes\":%zu,"
	    "\"request_id\":\"%s\"", r->status, r->duration_us, r->bytes,
	    r->request_id) == -1)
		return;
	if (r->user_id > 0 && buf_printf(&b, ",\"user_id\":%lld", r->user_id) == -1)
		return;
	if (buf_addc(&b, '}') == -1)
		return;
	emit(&b);
}

void
log_msg(const char *level, const char *fmt, ...)
{
	char line[2048], msg[1536], ts[40];
	struct buf b = { line, 0, sizeof(line), sizeof(line) - 2 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	timestamp(ts, sizeof(ts));
	if (buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"",
	    ts, level) == -1 ||
	    json_escape(&b, msg, strlen(msg)) == -1 ||
	    buf_adds(&b, "\"}") == -1)
		return;
	emit(&b);
}
