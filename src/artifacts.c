/* artifacts.c: the artifact store — an index of files in Postgres, their bytes in 1 MiB chunk rows or under artifact_root, never a whole file in memory. */
#include "artifacts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "perm.h"
#include "log.h"

const char *
artifact_path_check(const char *path, int allow_empty)
{
	size_t n = strlen(path);
	const char *seg = path;

	if (n == 0)
		return allow_empty ? NULL : "the artifact path is empty";
	if (n > ARTIFACT_PATH_MAX)
		return "the artifact path is longer than 4096 bytes";
	if (!utf8_valid(path, n))
		return "the artifact path is not valid UTF-8";
	if (path[0] == '/')
		return "absolute artifact paths are not allowed";
	for (const char *p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "control characters are not allowed in artifact paths";
		if (*p == '\\')
			return "backslashes are not allowed in artifact paths";
	}
	for (;;) {
		size_t len = strcspn(seg, "/");

		if (len == 0)
			return "empty segments ('//' or a trailing '/') are not allowed in "
			    "artifact paths";
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return "'.' and '..' segments are not allowed in artifact paths";
		if (seg[len] == '\0')
			return NULL;
		seg += len + 1;
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
artifact_request_path(struct req *r, const char *prefix, const char **out)
{
	static const char *const mlflow[] = {
		"/api/2.0/mlflow-artifacts/artifacts/",
		"/ajax-api/2.0/mlflow-artifacts/artifacts/",
	};
	const char *const *prefixes = prefix != NULL ? &prefix : mlflow;
	size_t nprefixes = prefix != NULL ? 1 : ARRAY_LEN(mlflow);
	const char *raw = r->raw_path != NULL ? r->raw_path : r->path;
	size_t n = strlen(raw), j = 0;
	char *dec = arena_alloc(r->a, n + 1);
	const char *why;

	if (dec == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '%' && hexval(raw[i + 1]) >= 0 && hexval(raw[i + 2]) >= 0) {
			int c = hexval(raw[i + 1]) * 16 + hexval(raw[i + 2]);

			if (c == 0) {
				resp_error_code(r, "INVALID_PARAMETER_VALUE", "NUL bytes are not "
				    "allowed in artifact paths");
				return 1;
			}
			dec[j++] = (char)c;
			i += 2;
		} else
			dec[j++] = raw[i];
	}
	dec[j] = '\0';
	for (size_t k = 0; k < nprefixes; k++) {
		size_t pl = strlen(prefixes[k]);

		if (strncmp(dec, prefixes[k], pl) != 0)
			continue;
		if ((why = artifact_path_check(dec + pl, 0)) != NULL) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid path: %s", why);
			return 1;
		}
		*out = dec + pl;
		return 0;
	}
	resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid path: the artifact URL must "
	    "be %s followed by a relative path", prefixes[0]);
	return 1;
}

const char *
artifact_uri_path(const char *uri)
{
	size_t n = strlen(ARTIFACT_URI_SCHEME);

	if (uri == NULL || strncmp(uri, ARTIFACT_URI_SCHEME, n) != 0)
		return NULL;
	uri += n;
	/* mlflow-artifacts:///x names the same place as mlflow-artifacts:/x */
	while (*uri == '/')
		uri++;
	return artifact_path_check(uri, 1) == NULL ? uri : NULL;
}

/*
 * root + "/" + path in the arena, for the directory store; NULL without a
 * root (a file indexed as in the directory must never resolve from "/").
 */
static char *
disk_path(struct req *r, const char *path)
{
	if (r->app->cfg.artifact_root[0] == '\0')
		return NULL;
	return arena_printf(r->a, "%s/%s", r->app->cfg.artifact_root, path);
}

/* mkdir -p of the directories above file (inside artifact_root). 0 or -1. */
static int
make_parents(char *file)
{
	for (char *p = file + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(file, 0750) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Fills buf with up to cap body bytes: the count, or -1 when the body ended early. */
static long
fill(struct req *r, char *buf, size_t cap)
{
	size_t have = 0;

	while (have < cap) {
		long got = req_read(r, buf + have, cap - have);

		if (got == 0)
			break;
		if (got < 0)
			return -1;
		have += (size_t)got;
	}
	return (long)have;
}

/*
 * Artifacts under "<experiment id>/..." (runs' artifact_uri) follow that
 * experiment's permission; other paths are open to every signed-in user,
 * as MLflow's proxy is. 0 allowed, 1 answered, -1 error.
 */
int
artifact_perm(struct req *r, const char *path, enum perm need)
{
	char exp[24];
	size_t n = strspn(path, "0123456789");

	if (n == 0 || n >= sizeof(exp) || (path[n] != '/' && path[n] != '\0'))
		return 0;
	memcpy(exp, path, n);
	exp[n] = '\0';
	return perm_require_experiment(r, exp, need);
}

int
artifact_put(struct req *r, const char *path)
{
	int in_dir = r->app->cfg.artifact_root[0] != '\0';
	char *buf = arena_alloc(r->a, ARTIFACT_CHUNK);
	char *final = NULL, *tmp = NULL;
	unsigned char hash[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1], sz[24], nb[16];
	crypto_hash_sha256_state st;
	long long size = 0;
	int fd = -1, n = 0, rc = -1, old_in_dir = 0, old = 0;
	const char *vals[5];
	PGresult *res;

	{
		int prc = artifact_perm(r, path, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (buf == NULL)
		return -1;
	if (in_dir && ((final = disk_path(r, path)) == NULL ||
	    (tmp = arena_printf(r->a, "%s.upload-%s", final, r->request_id)) == NULL))
		return -1;
	crypto_hash_sha256_init(&st);
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	vals[0] = path;
	/* One writer per path at a time; readers see the old file until COMMIT. */
	if ((res = db_exec(r->db, STMT_ART_LOCK, 1, vals)) == NULL)
		goto rollback;
	PQclear(res);
	if ((res = db_exec(r->db, STMT_ART_CLASH, 1, vals)) == NULL)
		goto rollback;
	if (PQntuples(res) > 0) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid path: '%.200s' is "
		    "in the way (a file cannot also be a directory)", PQgetvalue(res, 0, 0));
		PQclear(res);
		rc = 1;
		goto rollback;
	}
	PQclear(res);
	if ((res = db_exec(r->db, STMT_ART_DELETE_FILE, 1, vals)) == NULL)
		goto rollback;
	if (PQntuples(res) == 1) {
		old = 1;
		old_in_dir = !strcmp(PQgetvalue(res, 0, 0), "t");
	}
	PQclear(res);
	vals[1] = in_dir ? "true" : "false";
	if ((res = db_exec(r->db, STMT_ART_BEGIN_FILE, 2, vals)) == NULL)
		goto rollback;
	PQclear(res);
	if (in_dir) {
		if (make_parents(tmp) == -1 ||
		    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) == -1) {
			log_msg("error", "artifact %s: %s", tmp, strerror(errno));
			goto rollback;
		}
	}
	for (;;) {
		long got = fill(r, buf, ARTIFACT_CHUNK);

		if (got < 0) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "the upload ended after "
			    "%lld of %lld bytes; nothing was stored", r->body_read,
			    r->content_length);
			rc = 1;
			goto rollback;
		}
		if (got == 0)
			break;
		crypto_hash_sha256_update(&st, (unsigned char *)buf, (unsigned long long)got);
		if (in_dir) {
			for (long off = 0; off < got; ) {
				ssize_t w = write(fd, buf + off, (size_t)(got - off));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					log_msg("error", "artifact %s: %s", tmp, strerror(errno));
					goto rollback;
				}
				off += w;
			}
		} else {
			const char *cv[3] = { path, nb, buf };
			int lens[3] = { 0, 0, (int)got }, fmts[3] = { 0, 0, 1 };

			snprintf(nb, sizeof(nb), "%d", n);
			if ((res = db_exec_bin(r->db, STMT_ART_CHUNK_PUT, 3, cv, lens, fmts,
			    0)) == NULL)
				goto rollback;
			PQclear(res);
		}
		size += got;
		n++;
		if (got < (long)ARTIFACT_CHUNK)
			break;
	}
	crypto_hash_sha256_final(&st, hash);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(sz, sizeof(sz), "%lld", size);
	snprintf(nb, sizeof(nb), "%d", in_dir ? 0 : n);
	vals[1] = sz;
	vals[2] = hex;
	vals[3] = nb;
	if ((res = db_exec(r->db, STMT_ART_END_FILE, 4, vals)) == NULL)
		goto rollback;
	PQclear(res);
	if (in_dir) {
		if (fsync(fd) == -1 || close(fd) == -1) {
			fd = -1;
			log_msg("error", "artifact %s: %s", tmp, strerror(errno));
			goto rollback;
		}
		fd = -1;
		if (rename(tmp, final) == -1) {
			log_msg("error", "artifact %s: %s", final, strerror(errno));
			goto rollback;
		}
		tmp = NULL;
	}
	if (db_command(r->db, "COMMIT") == -1) {
		if (in_dir)
			unlink(final);
		goto out;
	}
	/* The old bytes were in the directory and the new ones are not there. */
	if (old && old_in_dir && !in_dir) {
		char *f = disk_path(r, path);

		if (f != NULL)
			unlink(f);
	}
	rc = 0;
	goto out;
rollback:
	db_rollback(r->db);
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	return rc;
}

struct download {
	const char *path;
	char sha256[72];
	long long size;
	int chunks;
	int in_dir;
};

/* Streams a Postgres-held file, one chunk row at a time, in one snapshot. */
static int
stream_chunks(struct req *r)
{
	struct download *d = r->resp.stream_ctx;
	const char *vals[2] = { d->path, NULL };
	char nb[16];
	long long sent = 0;
	PGresult *res;

	if (db_command(r->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") == -1)
		return -1;
	/* The file announced in the headers must be the one in this snapshot. */
	if ((res = db_exec(r->db, STMT_ART_GET, 1, vals)) == NULL)
		goto fail;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), d->sha256) != 0) {
		PQclear(res);
		log_msg("warn", "artifact %s changed while it was being downloaded", d->path);
		goto fail;
	}
	PQclear(res);
	vals[1] = nb;
	for (int i = 0; i < d->chunks; i++) {
		snprintf(nb, sizeof(nb), "%d", i);
		if ((res = db_exec_bin(r->db, STMT_ART_CHUNK_GET, 2, vals, NULL, NULL, 1)) == NULL)
			goto fail;
		if (PQntuples(res) != 1 || sent + PQgetlength(res, 0, 0) > d->size ||
		    req_write(r, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) == -1) {
			PQclear(res);
			goto fail;
		}
		sent += PQgetlength(res, 0, 0);
		PQclear(res);
	}
	if (db_command(r->db, "COMMIT") == -1 || sent != d->size)
		return -1;
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}

/* Streams a file under artifact_root. */
static int
stream_file(struct req *r)
{
	struct download *d = r->resp.stream_ctx;
	char *f = disk_path(r, d->path), *buf = arena_alloc(r->a, ARTIFACT_CHUNK);
	long long sent = 0;
	int fd, rc = -1;

	if (f == NULL || buf == NULL || (fd = open(f, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (sent < d->size) {
		ssize_t got = read(fd, buf, ARTIFACT_CHUNK);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || sent + got > d->size || req_write(r, buf, (size_t)got) == -1)
			goto out;
		sent += got;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The index row of path: 1 found, 0 not, -1 failure. */
static int
lookup(struct req *r, const char *path, struct download *d)
{
	const char *vals[1] = { path };
	PGresult *res = db_exec(r->db, STMT_ART_GET, 1, vals);
	int found;

	if (res == NULL)
		return -1;
	if ((found = PQntuples(res) == 1)) {
		d->path = path;
		d->size = atoll(PQgetvalue(res, 0, 0));
		snprintf(d->sha256, sizeof(d->sha256), "%s", PQgetvalue(res, 0, 1));
		d->chunks = atoi(PQgetvalue(res, 0, 2));
		d->in_dir = !strcmp(PQgetvalue(res, 0, 3), "t");
	}
	PQclear(res);
	return found;
}

int
artifact_get(struct req *r, const char *path, int attachment)
{
	struct download *d = arena_alloc(r->a, sizeof(*d));
	char etag[80], disp[300];
	int found;

	{
		int prc = artifact_perm(r, path, PERM_READ);

		if (prc != 0)
			return prc;
	}
	if (d == NULL || (found = lookup(r, path, d)) == -1)
		return -1;
	if (!found) {
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "artifact '%.300s' does not exist",
		    path);
		return 1;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", d->sha256);
	if (attachment) {
		/* The last segment, reduced to characters a quoted filename takes as they are. */
		const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
		size_t k = 0;

		k = (size_t)snprintf(disp, sizeof(disp), "attachment; filename=\"");
		for (const char *p = base; *p != '\0' && k < sizeof(disp) - 3; p++)
			disp[k++] = strchr("\"\\;", *p) == NULL && (unsigned char)*p >= 0x20 &&
			    (unsigned char)*p < 0x7f ? *p : '_';
		disp[k++] = '"';
		disp[k] = '\0';
		if (resp_header(&r->resp, "Content-Disposition", disp) == -1)
			return -1;
	}
	if (resp_header(&r->resp, "ETag", etag) == -1 ||
	    resp_stream(r, 200, "application/octet-stream", d->size, d->in_dir ?
	    stream_file : stream_chunks, d) == -1)
		return -1;
	return 0;
}

int
artifact_size(struct req *r, const char *path, long long *size)
{
	struct download d;
	int found = lookup(r, path, &d);

	if (found == 1)
		*size = d.size;
	return found == 1 ? 0 : found == 0 ? 1 : -1;
}

int
artifact_run_root(struct req *r, const char *run_id, const char **uri, const char **root)
{
	const char *vals[1] = { run_id };
	PGresult *res;
	int rc;

	if ((rc = perm_require_run(r, run_id, PERM_READ)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_RUN_ARTIFACT_URI, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Run with id=%.100s not found",
		    run_id);
		return 1;
	}
	*uri = arena_strdup(r->a, PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*uri == NULL)
		return -1;
	return (*root = artifact_uri_path(*uri)) != NULL ? 0 : 2;
}

int
artifact_read(struct req *r, const char *path, size_t max, char **data, size_t *len)
{
	struct download d;
	char *buf, nb[16];
	const char *vals[2] = { path, nb };
	size_t have = 0;
	int found, rc = -1;

	if ((found = lookup(r, path, &d)) != 1)
		return found == 0 ? 1 : -1;
	if ((unsigned long long)d.size > max)
		return 2;
	if ((buf = arena_alloc(r->a, (size_t)d.size + 1)) == NULL)
		return -1;
	if (d.in_dir) {
		char *f = disk_path(r, path);
		int fd = f != NULL ? open(f, O_RDONLY | O_CLOEXEC) : -1;

		if (fd == -1)
			return -1;
		while (have < (size_t)d.size) {
			ssize_t got = read(fd, buf + have, (size_t)d.size - have);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			have += (size_t)got;
		}
		close(fd);
	} else {
		if (db_command(r->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") == -1)
			return -1;
		for (int i = 0; i < d.chunks; i++) {
			PGresult *res;

			snprintf(nb, sizeof(nb), "%d", i);
			if ((res = db_exec_bin(r->db, STMT_ART_CHUNK_GET, 2, vals, NULL, NULL,
			    1)) == NULL)
				goto rollback;
			if (PQntuples(res) != 1 || have + (size_t)PQgetlength(res, 0, 0) >
			    (size_t)d.size) {
				PQclear(res);
				goto rollback;
			}
			memcpy(buf + have, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
			have += (size_t)PQgetlength(res, 0, 0);
			PQclear(res);
		}
		if (db_command(r->db, "COMMIT") == -1)
			return -1;
	}
	if (have != (size_t)d.size)
		return -1;
	buf[have] = '\0';
	*data = buf;
	*len = have;
	return 0;
rollback:
	db_rollback(r->db);
	return rc;
}

int
artifact_list(struct req *r, const char *dir, const char *name_prefix, json_t **files)
{
	char lim[16];
	const char *vals[2] = { dir, lim };
	PGresult *res;
	json_t *arr;

	{
		int prc = artifact_perm(r, dir, PERM_READ);

		if (prc != 0)
			return prc;
	}
	snprintf(lim, sizeof(lim), "%d", ARTIFACT_LIST_MAX);
	if ((res = db_exec(r->db, STMT_ART_LIST, 2, vals)) == NULL)
		return -1;
	arr = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		int is_dir = !strcmp(PQgetvalue(res, i, 1), "t");
		char *p = arena_printf(r->a, "%s%s", name_prefix, PQgetvalue(res, i, 0));
		json_t *f = p != NULL ? json_pack("{s:s, s:b}", "path", p, "is_dir", is_dir) :
		    NULL;

		if (f == NULL) {
			json_decref(arr);
			PQclear(res);
			return -1;
		}
		if (!is_dir)
			json_object_set_new(f, "file_size",
			    json_integer(atoll(PQgetvalue(res, i, 2))));
		json_array_append_new(arr, f);
	}
	PQclear(res);
	*files = arr;
	return 0;
}

int
artifact_delete(struct req *r, const char *path)
{
	const char *vals[1] = { path };
	PGresult *res;

	{
		int prc = artifact_perm(r, path, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((res = db_exec(r->db, STMT_ART_LOCK, 1, vals)) == NULL)
		goto rollback;
	PQclear(res);
	if ((res = db_exec(r->db, STMT_ART_DELETE_TREE, 1, vals)) == NULL)
		goto rollback;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(r->db);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "artifact '%.300s' does not exist",
		    path);
		return 1;
	}
	if (db_command(r->db, "COMMIT") == -1) {
		PQclear(res);
		return -1;
	}
	/* The index is gone: files under artifact_root are now unreachable, remove them. */
	for (int i = 0; i < PQntuples(res); i++) {
		char *f;

		if (strcmp(PQgetvalue(res, i, 1), "t") != 0 ||
		    (f = disk_path(r, PQgetvalue(res, i, 0))) == NULL)
			continue;
		if (unlink(f) == -1 && errno != ENOENT)
			log_msg("warn", "artifact %s: %s", f, strerror(errno));
	}
	PQclear(res);
	return 0;
rollback:
	db_rollback(r->db);
	return -1;
}
