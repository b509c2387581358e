"""The command line's machinery, TensorFlow-free until a run starts: console output and
flags (console), finding configs (config_files), from a config to a result (launch) and
the one job runner that sweeps and reproduction share (jobs)."""
