#!/usr/bin/env bash
# Measures aegis against its references in one run on this machine and prints the ratios:
#   GEMM vs OpenBLAS (Debian libopenblas0 through numpy), training step vs PyTorch CPU
#   (Debian python3-torch, same config and thread count), and the peak memory of LoRA
#   training on a Qwen2.5-0.5B-shaped model with a bf16 base.
# Usage: scripts/bench.sh [THREADS]   (default 2; run as root to install missing packages)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
py=/usr/bin/python3

need=()
$py -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
$py -c 'import torch' 2>/dev/null || need+=(python3-torch)
ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1 || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

go build -o bin/aegis ./cmd/aegis
field() { $py -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
best() { $py -c "import sys; print(max(float(x) for x in sys.argv[1:]))" "$@"; }
ratio() { $py -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads $threads"
echo "aegis ISA: $(bin/aegis bench gemm --m 8 --n 8 --k 8 --seconds 0 --json | field isa)"
echo
printf '%-28s %12s %12s %8s\n' "benchmark" "aegis" "reference" "ratio"

# GEMM: alternate ours and OpenBLAS three times each and keep each side's best, since
# the other core's load moves both.
for shape in "1024 1024 1024" "512 2048 768"; do
  set -- $shape
  ours=() ref=()
  for _ in 1 2 3; do
    ours+=("$(bin/aegis bench gemm --m $1 --n $2 --k $3 --threads "$threads" --seconds 1 --json | field gflops)")
    ref+=("$(OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= $py scripts/bench_openblas.py --m $1 --n $2 --k $3 --threads "$threads" | field gflops)")
  done
  o=$(best "${ours[@]}"); r=$(best "${ref[@]}")
  printf '%-28s %12.1f %12.1f %8s\n' "gemm ${1}x${2}x${3} GFLOP/s" "$o" "$r" "$(ratio "$o" "$r")"
done

# Training step: same config, batch 8 x seq 128, full fine-tuning with AdamW.
cfg=scripts/bench_configs/llama_small.json
ours=() ref=()
for _ in 1 2; do
  ours+=("$(bin/aegis bench train --model-config $cfg --batch 8 --seq 128 --steps 5 --threads "$threads" --json 2>/dev/null | field tokens_per_s)")
  ref+=("$($py scripts/bench_torch_train.py --model-config $cfg --batch 8 --seq 128 --steps 5 --threads "$threads" | field tokens_per_s)")
done
o=$(best "${ours[@]}"); r=$(best "${ref[@]}")
printf '%-28s %12.0f %12.0f %8s\n' "train tokens/s (PyTorch)" "$o" "$r" "$(ratio "$o" "$r")"

# Scale: LoRA rank 8 on a bf16 Qwen2.5-0.5B-shaped base, batch 1 x seq 256.
out=$(bin/aegis bench train --model-config scripts/bench_configs/qwen2.5_0.5b.json --lora-rank 8 --base-dtype bf16 \
  --batch 1 --seq 256 --steps 2 --threads "$threads" --json 2>/dev/null)
printf '%-28s %12.0f %12s\n' "qwen2.5-0.5b lora peak MiB" "$(echo "$out" | field peak_rss_mb)" "<= 6144"
printf '%-28s %12.1f\n' "qwen2.5-0.5b lora tokens/s" "$(echo "$out" | field tokens_per_s)"
