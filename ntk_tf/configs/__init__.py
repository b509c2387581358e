"""Experiment configs: one file per experiment (`get_config(arg)`), shared blocks in common.py."""
