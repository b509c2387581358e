"""Training networks and their linearizations: the papers' SGD (optimizers), the
compiled steps (steps), the training options (config), the paired trainer (paired)
and its seeds (paired_runs), learning curves and scaling-law runs, checkpoints and
the Keras callbacks that watch the eNTK during fit."""
