#!/usr/bin/env bash
# The GPU benchmark in one go (about 5-8 minutes on one GPU): full-size Fashion-MNIST from Debian's
# package when it is not there yet (a machine without network can bring the four files in a folder
# given as FASHION_DIR), then benchmarks/gpu.py, which writes benchmarks/results/gpu_<card>.md.
#   bash benchmarks/gpu.sh [extra gpu.py arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
FASHION_DIR=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
if ! ls "$FASHION_DIR"/train-images-idx3-ubyte* >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
    || echo "gpu.sh: could not install dataset-fashion-mnist; the full-size epoch falls back to MNIST in --data_dir" >&2
fi
python -c "import gan_lightning" 2>/dev/null || python -m pip install -q -e .
exec python benchmarks/gpu.py --fashion_dir "$FASHION_DIR" "$@"
