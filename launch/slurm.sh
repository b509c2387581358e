#!/usr/bin/env bash
# One sweep cell per Slurm array task. Submit from the repository root:
#   n=$(python -m ntk_tf.sweep --config=configs/lenet_mnist.py --list | wc -l)
#   sbatch --array=0-$((n - 1)) launch/slurm.sh configs/lenet_mnist.py workdirs/lenet_mnist \
#       [--config.key=value ...]
# Each task runs `python -m ntk_tf.sweep --cell=$SLURM_ARRAY_TASK_ID`: a finished cell returns
# at once and an interrupted one resumes from its checkpoints, so resubmitting the same array
# after a preemption or timeout finishes the sweep. Then: python -m ntk_tf.report --workdir=...
#SBATCH --job-name=ntk_tf
#SBATCH --output=slurm-%A_%a.out
#SBATCH --time=24:00:00
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
set -euo pipefail
config=${1:?usage: sbatch --array=0-N launch/slurm.sh CONFIG WORKDIR [overrides...]}
workdir=${2:?usage: sbatch --array=0-N launch/slurm.sh CONFIG WORKDIR [overrides...]}
shift 2
here=${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$here"
python=${PYTHON:-$here/.venv/bin/python}
exec "$python" -m ntk_tf.sweep --config="$config" --workdir="$workdir" \
    --cell="${SLURM_ARRAY_TASK_ID:?run this script as a Slurm array job}" "$@"
