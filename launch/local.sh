#!/usr/bin/env bash
# Runs one config locally: launch/local.sh configs/<name>.py <workdir> [--config.key=value ...]
set -euo pipefail
config=${1:?usage: launch/local.sh CONFIG WORKDIR [overrides...]}
workdir=${2:?usage: launch/local.sh CONFIG WORKDIR [overrides...]}
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
exec "$python" -m ntk_tf.main --config="$config" --workdir="$workdir" "$@"
