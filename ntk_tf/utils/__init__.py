"""Shared helpers with no science in them: files and JSON (io), memory budgets (memory),
progress lines (progress), figures (plots), model-name parsing (model_names) and
tf.distribute strategies (distribute)."""
