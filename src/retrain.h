/* retrain.h: `verdict retrain` — a model's serving version retrained on its data plus verified feedback, promoted only when better on one holdout. */
#ifndef VERDICT_RETRAIN_H
#define VERDICT_RETRAIN_H

/* Exit statuses of verdict retrain (README: "verdict retrain"), for cron and systemd. */
enum retrain_exit {
	RETRAIN_PROMOTED = 0,
	RETRAIN_FAILED = 1,             /* a server, the disk or XGBoost failed */
	RETRAIN_BAD_INPUT = 2,          /* usage, an unknown model, missing or changed data */
	RETRAIN_NOT_PROMOTED = 3,       /* the candidate stays in Staging */
	RETRAIN_LOCKED = 4,             /* another retrain of the model holds the lease */
	RETRAIN_INTERRUPTED = 130       /* SIGINT/SIGTERM */
};

/* argv[0] is "retrain". Returns the exit status. */
int retrain_main(int argc, char **argv);

#endif
