/* harness.c: start/stop a private stack through deploy/stack and talk HTTP to it with libcurl. */
#include "harness.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* Responses larger than this are a bug in the test or the server. */
#define HTTP_MAX_BODY ((size_t)256 << 20)
#define HTTP_MAX_HEADERS ((size_t)1 << 20)

/*
 * Everything teardown needs is prepared in harness_start, so that the signal
 * path only calls async-signal-safe functions (fork, execv, waitpid, write,
 * _exit).
 */
static struct {
	char url[256];
	char dir[PATH_MAX];
	char srcdir[PATH_MAX];
	char builddir[PATH_MAX];
	char stack[PATH_MAX];          /* srcdir/deploy/stack */
	char *stop_argv[6];
	char *rm_argv[4];
	pid_t owner;                   /* the process that started the stack */
	int owned;                     /* we started it, so we stop it */
	int keep;                      /* VERDICT_KEEP_TEST_DIR */
	volatile sig_atomic_t torn_down;
	int curl_ready;
} H;

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Diagnostics go to stderr as TAP comments: the driver logs, never parses them. */
static void
say(const char *fmt, ...)
{
	va_list ap;

	fputs("# harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
is_file_x(const char *dir, const char *rel)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/%s", dir, rel) >= (int)sizeof(p))
		return 0;
	return access(p, X_OK) == 0;
}

/* dst = dirname(src) n times; 0 or -1. */
static int
up_dirs(char *dst, size_t dstlen, const char *src, int n)
{
	char *s;

	if (snprintf(dst, dstlen, "%s", src) >= (int)dstlen)
		return -1;
	while (n-- > 0) {
		if ((s = strrchr(dst, '/')) == NULL)
			return -1;
		if (s == dst)
			s[1] = '\0';
		else
			*s = '\0';
	}
	return 0;
}

/* abs_top_srcdir from an automake-generated Makefile in builddir; 0 or -1. */
static int
srcdir_from_makefile(const char *builddir, char *dst, size_t dstlen)
{
	char p[PATH_MAX], line[PATH_MAX + 64];
	FILE *f;
	int rc = -1;

	if (snprintf(p, sizeof(p), "%s/Makefile", builddir) >= (int)sizeof(p))
		return -1;
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v;
		size_t n;

		if (strncmp(line, "abs_top_srcdir = ", 17) != 0)
			continue;
		v = line + 17;
		n = strcspn(v, "\r\n");
		v[n] = '\0';
		if (n > 0 && n < dstlen) {
			memcpy(dst, v, n + 1);
			rc = 0;
		}
		break;
	}
	fclose(f);
	return rc;
}

/*
 * Finds the repository (with deploy/stack) and the build directory (with
 * src/verdictd): the environment make check sets, else the test binary's
 * location (BUILDDIR/tests/integration/test_x), else the cwd and its parents.
 */
static int
find_dirs(void)
{
	const char *e;
	char exe[PATH_MAX], cwd[PATH_MAX], cand[PATH_MAX];
	ssize_t n;

	H.srcdir[0] = H.builddir[0] = '\0';
	if ((e = getenv("VERDICT_BUILDDIR")) != NULL && *e != '\0')
		snprintf(H.builddir, sizeof(H.builddir), "%s", e);
	if ((e = getenv("VERDICT_SRCDIR")) != NULL && *e != '\0')
		snprintf(H.srcdir, sizeof(H.srcdir), "%s", e);

	if (H.builddir[0] == '\0' &&
	    (n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if (up_dirs(cand, sizeof(cand), exe, 3) == 0 &&
		    is_file_x(cand, "src/verdictd"))
			snprintf(H.builddir, sizeof(H.builddir), "%s", cand);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	for (int up = 0; up <= 2 && H.builddir[0] == '\0' && cwd[0] != '\0'; up++)
		if (up_dirs(cand, sizeof(cand), cwd, up) == 0 &&
		    is_file_x(cand, "src/verdictd"))
			snprintf(H.builddir, sizeof(H.builddir), "%s", cand);

	if (H.srcdir[0] == '\0' && H.builddir[0] != '\0') {
		if (srcdir_from_makefile(H.builddir, cand, sizeof(cand)) == 0 &&
		    is_file_x(cand, "deploy/stack"))
			snprintf(H.srcdir, sizeof(H.srcdir), "%s", cand);
		else if (is_file_x(H.builddir, "deploy/stack"))
			snprintf(H.srcdir, sizeof(H.srcdir), "%s", H.builddir);
	}
	for (int up = 0; up <= 2 && H.srcdir[0] == '\0' && cwd[0] != '\0'; up++)
		if (up_dirs(cand, sizeof(cand), cwd, up) == 0 &&
		    is_file_x(cand, "deploy/stack"))
			snprintf(H.srcdir, sizeof(H.srcdir), "%s", cand);

	if (H.srcdir[0] == '\0') {
		say("cannot find the repository (deploy/stack): set VERDICT_SRCDIR");
		return -1;
	}
	if (H.builddir[0] == '\0')
		snprintf(H.builddir, sizeof(H.builddir), "%s", H.srcdir);
	if (snprintf(H.stack, sizeof(H.stack), "%s/deploy/stack", H.srcdir) >=
	    (int)sizeof(H.stack) || access(H.stack, X_OK) != 0) {
		say("%s/deploy/stack is missing or not executable", H.srcdir);
		return -1;
	}
	return 0;
}

/*
 * Runs argv (argv[0] a path) and returns its exit status, or -1. The child's
 * stdout goes to our stderr so nothing it prints can corrupt the TAP stream,
 * and it inherits no descriptor beyond 0-2: daemons started by deploy/stack
 * would otherwise hold our pipes (and make's) open forever.
 * Async-signal-safe, as teardown may run from a signal handler.
 */
static int
run(char *const argv[])
{
	pid_t pid;
	int status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		sigset_t none;
		int fd = open("/dev/null", O_RDONLY);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (fd > 0) {
			dup2(fd, 0);
			close(fd);
		}
		dup2(2, 1);
		if (close_range(3, ~0U, 0) == -1)
			for (fd = 3; fd < 4096; fd++)
				close(fd);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* deploy/stack CMD --dir DIR; 0 or -1. */
static int
stack_cmd(const char *cmd)
{
	char *argv[] = { H.stack, (char *)cmd, "--dir", H.dir, NULL };

	if (H.dir[0] == '\0') {
		say("%s: no stack directory (with VERDICT_TEST_URL, set VERDICT_DIR)", cmd);
		return -1;
	}
	fflush(NULL);
	if (run(argv) != 0) {
		say("deploy/stack %s --dir %s failed", cmd, H.dir);
		return -1;
	}
	return 0;
}

static void
wr(const char *s)
{
	ssize_t r = write(2, s, strlen(s));

	(void)r;
}

/*
 * Prints sanitizer reports from verdictd's stderr log (ASan, LSan, UBSan);
 * returns 1 when there were any. Not async-signal-safe.
 */
static int
sanitizer_reports(void)
{
	char p[PATH_MAX + 64], line[1024];
	FILE *f;
	int found = 0, printed = 0;

	snprintf(p, sizeof(p), "%s/log/verdictd-stderr.log", H.dir);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "ERROR: AddressSanitizer") != NULL ||
		    strstr(line, "ERROR: LeakSanitizer") != NULL ||
		    strstr(line, "runtime error:") != NULL ||
		    strstr(line, "SUMMARY: AddressSanitizer") != NULL ||
		    strstr(line, "SUMMARY: UndefinedBehaviorSanitizer") != NULL)
			found = 1;
		/* The first 200 lines of the first report, enough for a trace. */
		if (found && printed < 200) {
			if (printed++ == 0)
				fprintf(stderr, "# harness: sanitizer report in %s:\n", p);
			fprintf(stderr, "# %s", line);
			if (strchr(line, '\n') == NULL)
				fputc('\n', stderr);
		}
	}
	fclose(f);
	return found;
}

/*
 * Stops the stack and removes its directory. Returns 1 when verdictd left
 * sanitizer reports (only checked when not called from a signal handler).
 */
static int
teardown(int from_signal)
{
	int bad = 0;

	if (!H.owned || H.torn_down || getpid() != H.owner)
		return 0;
	H.torn_down = 1;
	if (run(H.stop_argv) != 0)
		wr("# harness: deploy/stack stop failed\n");
	if (!from_signal)
		bad = sanitizer_reports();
	if (H.keep || bad) {
		wr("# harness: kept the stack directory ");
		wr(H.dir);
		wr("\n");
	} else if (run(H.rm_argv) != 0) {
		wr("# harness: could not remove ");
		wr(H.dir);
		wr("\n");
	}
	return bad;
}

static void
at_exit(void)
{
	if (teardown(0)) {
		/* Turns the run into an automake ERROR; exit() may not be called here. */
		fflush(NULL);
		_exit(1);
	}
}

static void
on_signal(int sig)
{
	teardown(1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
curl_ready(void)
{
	if (!H.curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			say("curl_global_init failed");
			return -1;
		}
		H.curl_ready = 1;
	}
	return 0;
}

/* VERDICT_URL from DIR/stack.env; 0 or -1. */
static int
read_stack_env(void)
{
	char p[PATH_MAX + 32], line[1024];
	FILE *f;
	int rc = -1;

	snprintf(p, sizeof(p), "%s/stack.env", H.dir);
	if ((f = fopen(p, "r")) == NULL) {
		say("%s: %s", p, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VERDICT_URL=", 12) != 0)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		if (snprintf(H.url, sizeof(H.url), "%s", line + 12) < (int)sizeof(H.url))
			rc = 0;
		break;
	}
	fclose(f);
	if (rc == -1)
		say("no VERDICT_URL in %s", p);
	return rc;
}

int
harness_start(void)
{
	static char dirtmpl[] = "/tmp/verdict-test.XXXXXX";
	static char rm_path[] = "/bin/rm", rm_flag[] = "-rf", stop[] = "stop",
	    dflag[] = "--dir";
	const char *e;
	size_t n;

	if (H.url[0] != '\0')
		return 0;
	if (curl_ready() == -1)
		return -1;

	if ((e = getenv("VERDICT_TEST_URL")) != NULL && *e != '\0') {
		/* A stack someone else runs: use it, never stop it. */
		snprintf(H.url, sizeof(H.url), "%s", e);
		n = strlen(H.url);
		while (n > 0 && H.url[n - 1] == '/')
			H.url[--n] = '\0';
		if ((e = getenv("VERDICT_DIR")) != NULL)
			snprintf(H.dir, sizeof(H.dir), "%s", e);
		if (find_dirs() == -1)
			H.stack[0] = '\0';
		say("using the running stack at %s (dir %s)", H.url,
		    H.dir[0] != '\0' ? H.dir : "unknown");
		return 0;
	}

	if (find_dirs() == -1)
		return -1;
	if (mkdtemp(dirtmpl) == NULL) {
		say("mkdtemp %s: %s", dirtmpl, strerror(errno));
		return -1;
	}
	snprintf(H.dir, sizeof(H.dir), "%s", dirtmpl);
	H.owner = getpid();
	H.owned = 1;
	H.keep = (e = getenv("VERDICT_KEEP_TEST_DIR")) != NULL && *e != '\0';
	H.stop_argv[0] = H.stack;
	H.stop_argv[1] = stop;
	H.stop_argv[2] = dflag;
	H.stop_argv[3] = H.dir;
	H.stop_argv[4] = NULL;
	H.rm_argv[0] = rm_path;
	H.rm_argv[1] = rm_flag;
	H.rm_argv[2] = H.dir;
	H.rm_argv[3] = NULL;

	/* Before starting anything, so an interrupted start is cleaned up too. */
	atexit(at_exit);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}

	{
		char *argv[] = { H.stack, "start", "--dir", H.dir, "--port", "0",
		    "--supervise", "--builddir", H.builddir, NULL };
		int rc;

		say("starting a stack in %s (repo %s, build %s)", H.dir, H.srcdir,
		    H.builddir);
		fflush(NULL);
		if ((rc = run(argv)) != 0) {
			say("deploy/stack start failed (exit %d); logs are in %s/log", rc,
			    H.dir);
			H.keep = 1;    /* the logs are the only clue */
			teardown(0);
			return -1;
		}
	}
	if (read_stack_env() == -1) {
		teardown(0);
		return -1;
	}
	say("stack up at %s", H.url);
	return 0;
}

void
harness_stop(void)
{
	if (teardown(0)) {
		fflush(NULL);
		_exit(1);
	}
}

const char *
harness_url(void)
{
	return H.url;
}

const char *
harness_dir(void)
{
	return H.dir;
}

int
harness_pg_stop(void)
{
	return stack_cmd("pg-stop");
}

int
harness_pg_start(void)
{
	return stack_cmd("pg-start");
}

long
harness_verdictd_pid(void)
{
	char p[PATH_MAX + 32], buf[32];
	FILE *f;
	long pid = -1;

	if (H.dir[0] == '\0')
		return -1;
	snprintf(p, sizeof(p), "%s/run/verdictd.pid", H.dir);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		char *end;

		errno = 0;
		pid = strtol(buf, &end, 10);
		if (errno != 0 || end == buf || pid <= 0)
			pid = -1;
	}
	fclose(f);
	return pid;
}

int
harness_wait_healthy(int timeout_ms)
{
	struct timespec t = { 0, 50 * 1000000L };
	struct http_resp r;

	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (http_get("/healthz", &r) == 0 && r.status == 200) {
			http_resp_free(&r);
			return 0;
		}
		http_resp_free(&r);
		nanosleep(&t, NULL);
	}
	return -1;
}

/* ---------------------------------------------------------------- HTTP */

struct growbuf {
	char *p;
	size_t len, cap, max;
	int overflow;
};

/* Appends n bytes, keeping a NUL after them; -1 past max or out of memory. */
static int
grow_append(struct growbuf *b, const char *data, size_t n)
{
	if (n > b->max - b->len) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	size_t n = size * nmemb;

	return grow_append(userdata, data, n) == 0 ? n : 0;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct growbuf *b = userdata;
	size_t n = size * nmemb;

	/* A new status line (after 100 Continue): keep only the final response. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		b->len = 0;
	return grow_append(b, data, n) == 0 ? n : 0;
}

/* Whether the NULL-terminated list names header name ("Name:" or "Name: v"). */
static int
has_header(const char *const *list, const char *name)
{
	size_t n = strlen(name);

	for (; list != NULL && *list != NULL; list++)
		if (strncasecmp(*list, name, n) == 0 && (*list)[n] == ':')
			return 1;
	return 0;
}

int
http_request(const char *method, const char *path, const char *content_type,
    const void *body, size_t body_len, const char *const *extra_headers,
    struct http_resp *out)
{
	struct growbuf hb = { NULL, 0, 0, HTTP_MAX_HEADERS, 0 };
	struct growbuf bb = { NULL, 0, 0, HTTP_MAX_BODY, 0 };
	struct curl_slist *hl = NULL, *tmp;
	char url[4096], ct[512], errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode cc;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (curl_ready() == -1)
		return -1;
	if (H.url[0] == '\0') {
		say("http_request before harness_start");
		return -1;
	}
	if (snprintf(url, sizeof(url), "%s%s", H.url, path) >= (int)sizeof(url)) {
		say("URL too long: %s%s", H.url, path);
		return -1;
	}
	if ((c = curl_easy_init()) == NULL)
		goto out;

	/* Nothing the test did not ask for: no Expect: 100-continue, no
	 * default form Content-Type. "Name:" in extra_headers removes more. */
	if (!has_header(extra_headers, "Expect") &&
	    (tmp = curl_slist_append(hl, "Expect:")) != NULL)
		hl = tmp;
	if (!has_header(extra_headers, "Content-Type")) {
		if (content_type != NULL)
			snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		else
			snprintf(ct, sizeof(ct), "Content-Type:");
		if ((tmp = curl_slist_append(hl, ct)) != NULL)
			hl = tmp;
	}
	for (const char *const *h = extra_headers; h != NULL && *h != NULL; h++) {
		if ((tmp = curl_slist_append(hl, *h)) == NULL)
			goto out;
		hl = tmp;
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* Send "/../" and "/./" as written: traversal tests must reach the server. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);

	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (body != NULL || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
	    !strcmp(method, "PATCH")) {
		/* POSTFIELDS with an explicit size: binary-safe, Content-Length
		 * always sent (0 for an empty body). */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}

	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		say("%s %s: %s%s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(cc),
		    bb.overflow || hb.overflow ? " (response too large)" : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	/* Empty but valid strings, so callers may strstr() without checks. */
	if ((hb.p == NULL && grow_append(&hb, "", 0) == -1) ||
	    (bb.p == NULL && grow_append(&bb, "", 0) == -1))
		goto out;
	out->headers = hb.p;
	out->headers_len = hb.len;
	out->body = bb.p;
	out->body_len = bb.len;
	hb.p = bb.p = NULL;
	rc = 0;
out:
	if (rc == -1)
		out->status = 0;
	free(hb.p);
	free(bb.p);
	curl_slist_free_all(hl);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}

int
http_get(const char *path, struct http_resp *out)
{
	return http_request("GET", path, NULL, NULL, 0, NULL, out);
}

const char *
http_header(const struct http_resp *r, const char *name, char *dst, size_t dstlen)
{
	size_t n = strlen(name);
	const char *line, *end, *v;

	if (r == NULL || r->headers == NULL || dstlen == 0)
		return NULL;
	for (line = r->headers; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if ((size_t)(end - line) <= n || strncasecmp(line, name, n) != 0 ||
		    line[n] != ':')
			continue;
		v = line + n + 1;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
		n = (size_t)(end - v);
		if (n >= dstlen)
			n = dstlen - 1;
		memcpy(dst, v, n);
		dst[n] = '\0';
		return dst;
	}
	return NULL;
}

json_t *
http_json(const struct http_resp *r)
{
	if (r == NULL || r->body == NULL)
		return NULL;
	return json_loadb(r->body, r->body_len, 0, NULL);
}

void
http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
