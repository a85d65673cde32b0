/* artifacts.h: MLflow artifacts — path rules and the one store (an index in Postgres; the bytes in 1 MiB chunks there, or files under artifact_root). */
#ifndef VERDICT_ARTIFACTS_H
#define VERDICT_ARTIFACTS_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"
#include "perm.h"

#define ARTIFACT_CHUNK (1u << 20)       /* bytes per chunk row, and per read/write */
#define ARTIFACT_PATH_MAX 4096          /* bytes of a normalized path */
#define ARTIFACT_LIST_MAX 10000         /* entries one listing returns */
#define ARTIFACT_URI_SCHEME "mlflow-artifacts:/"

/*
 * Checks a relative artifact path: "" only when allow_empty (the root),
 * else 1..ARTIFACT_PATH_MAX bytes of UTF-8 without control characters or
 * backslashes, not starting with '/', with no empty, "." or ".." segments.
 * Returns NULL when it is fine, else what is wrong (a static string).
 * Nothing is rewritten: a path is stored exactly as the client named it.
 */
const char *artifact_path_check(const char *path, int allow_empty);

/*
 * The artifact path of a /api/2.0/mlflow-artifacts/artifacts/{path...}
 * request (prefix NULL), or of one whose decoded path starts with prefix,
 * taken from the raw request URI and percent-decoded here, so what
 * is checked is what the client sent (nginx has already resolved "..",
 * merged "//" and decoded "%00" in the routed path). 0 with *out (arena),
 * or 1 after answering 400 INVALID_PARAMETER_VALUE.
 */
int artifact_request_path(struct req *r, const char *prefix, const char **out);

/*
 * "mlflow-artifacts:/0/<run>/artifacts" → "0/<run>/artifacts" (a pointer
 * into uri); NULL when the URI does not name verdict's store.
 */
const char *artifact_uri_path(const char *uri);

/*
 * Every function below answers errors itself with resp_error_code and
 * returns 1 then; 0 on success; -1 on an internal failure (500, or 503
 * when Postgres went away).
 */

/*
 * Stores r's streamed body (R_BODY_STREAM, read with req_read a chunk at a
 * time, hashed with SHA-256 on the way) as path, replacing a file of that
 * name, in one transaction: a failed or short upload leaves nothing.
 */
/* The permission an artifact path needs, by its experiment ("<id>/..."); 0, 1 answered, -1. */
int artifact_perm(struct req *r, const char *path, enum perm need);

int artifact_put(struct req *r, const char *path);

/*
 * Answers with the file's bytes, streamed a chunk at a time (ETag: its
 * SHA-256); attachment: with Content-Disposition: attachment and the last
 * segment as the file name, for browsers.
 */
int artifact_get(struct req *r, const char *path, int attachment);

/*
 * A run's artifact root in the store ("0/<run>/artifacts", *root points
 * into *uri, its artifact_uri; arena memory), after READ on the run's
 * experiment: 404 for an unknown run (and, on verdict's pages, for one the
 * caller may not read); 2 (not answered) when its artifact_uri is not in
 * verdict's store (*uri says where it is).
 */
int artifact_run_root(struct req *r, const char *run_id, const char **uri,
    const char **root);

/* The size of file path: 0; 1 when there is no such file (not answered); -1. */
int artifact_size(struct req *r, const char *path, long long *size);

/*
 * The entries directly under dir ("" = the root), sorted by name, as
 * MLflow's FileInfo: {"path": name_prefix + name, "is_dir", "file_size"
 * (files only)}. *files is a new array the caller owns; empty when dir
 * holds nothing.
 */
int artifact_list(struct req *r, const char *dir, const char *name_prefix, json_t **files);

/* Deletes the file path, or every file under the directory path; 404 when neither exists. */
int artifact_delete(struct req *r, const char *path);

/*
 * Reads a whole file of at most max bytes into arena memory (NUL-terminated,
 * *len without it), for the registry's MLmodel and booster reads. 0; 1 when
 * there is no such file (not answered); 2 when it is larger than max (not
 * answered); -1 on failure.
 */
int artifact_read(struct req *r, const char *path, size_t max, char **data, size_t *len);

#endif
