/* train.h: `verdict train` — a booster from a CSV or JSON file through the feature spec serving uses, logged over the MLflow REST API. */
#ifndef VERDICT_TRAIN_H
#define VERDICT_TRAIN_H

/* Exit statuses of verdict train (README: "verdict train"). */
enum train_exit {
	TRAIN_OK = 0,
	TRAIN_FAILED = 1,       /* the server, the disk or XGBoost failed; a run is FAILED */
	TRAIN_BAD_INPUT = 2,    /* usage, data or spec: nothing was logged or registered */
	TRAIN_INTERRUPTED = 130 /* SIGINT/SIGTERM; a run is KILLED */
};

/* argv[0] is "train". Returns the exit status. */
int train_main(int argc, char **argv);

#endif
