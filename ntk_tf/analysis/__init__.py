"""What is computed from finished kernels and runs: spectra and effective ranks
(spectral), power-law fits (scaling) and the logistic-regression baseline (baselines)."""
