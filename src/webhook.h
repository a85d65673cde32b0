/* webhook.h: alerts by webhook — subscriptions, and the background worker that fans events out and delivers them, signed, with retries. */
#ifndef VERDICT_WEBHOOK_H
#define VERDICT_WEBHOOK_H

#include <stddef.h>

#include "config.h"
#include "http.h"

/*
 * Event kinds a webhook may subscribe to ("*": all of them). The first
 * three are written to the events table by whoever causes them (a stage
 * change, a drift report, a retrain) and fanned out to every matching
 * webhook; "quality.below" is raised by the worker per webhook, from that
 * webhook's own metric, threshold and window.
 */
extern const char *const webhook_kinds[];

/* Starts the worker thread (own connection; libcurl initialised by the caller). 0 or -1. */
int webhook_worker_start(const struct config *cfg) WUR;
void webhook_worker_stop(void);

/* The signature header value for body: "sha256=" + hex HMAC-SHA256 with secret. */
void webhook_sign(const char *secret, const char *body, size_t len, char out[72]);

/* JSON admin API (api-webhooks.c). */
int api_webhooks_list(struct req *r);
int api_webhooks_create(struct req *r);
int api_webhooks_delete(struct req *r);
int api_webhook_deliveries(struct req *r);

#endif
