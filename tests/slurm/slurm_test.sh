#!/usr/bin/env bash
# SLURM end to end (DESIGN §7), on a real one-node cluster brought up on loopback (cluster.sh):
# - `onemodel submit` a 2-rank training job (srun --mpi=pmix): it completes, rank 0's log, checkpoints of both
#   expert shards;
# - `onemodel submit-eval`: the job array evaluates each checkpoint, the dependent job writes the table;
# - `onemodel submit --requeue`: SIGUSR1 to the job (as SLURM sends before its time limit) -> checkpoint, exit 4,
#   requeue; the restarted job resumes from the checkpoint and completes;
# - --dry-run prints the script (multi-node, GPUs) without submitting.
# The cluster is torn down at the end (only the daemons it started, by PID).
set -uo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools/onemodel"
cluster_sh="${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/slurm/cluster.sh"
work="${TEST_TMPDIR}/work"
mkdir -p "$work"
cd "$work" || exit 1
failures=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
check() {  # check NAME command...
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

# Short, private paths: munged's socket path must fit a sockaddr_un; OpenMPI puts its session files in TMPDIR.
cluster=$(mktemp -d /tmp/om-slurm.XXXXXX)
export TMPDIR="$cluster/tmp"
mkdir -p "$TMPDIR"
trap '"$cluster_sh" down "$cluster"; rm -rf "$cluster"' EXIT
"$cluster_sh" up "$cluster" || exit 1
export SLURM_CONF="$cluster/slurm.conf"

# wait_job ID STATE SECONDS: polls scontrol (sbatch --wait backs off to 42 s between polls).
wait_job() {
  local state=""
  for _ in $(seq $(($3 * 5))); do
    state=$(scontrol show job "$1" 2> /dev/null | grep -oE 'JobState=[A-Z_]+' | head -n 1 | cut -d= -f2)
    [[ "$state" == "$2" || "$state" == FAILED || "$state" == CANCELLED || "$state" == TIMEOUT ]] && break
    sleep 0.2
  done
  [[ "$state" == "$2" ]] || { echo "job $1 is $state, expected $2"; scontrol show job "$1" | head -n 8; return 1; }
}
job_id() { grep -oE "$1 [0-9]+" <<<"$2" | head -n 1 | awk '{print $NF}'; }

cp "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/configs/two_ranks.pbtxt" two_ranks.pbtxt

# 1. A 2-rank training job.
out=$("$bin" submit --config two_ranks.pbtxt --run run --ntasks-per-node 2 --time 10 2>&1)
echo "$out"
train=$(job_id "training job" "$out")
check "submit prints the job id" test -n "$train"
check "training job completes" wait_job "$train" COMPLETED 120
log="run/slurm/train-$train.out"
check "it ran 2 ranks" grep -q "(2 ranks)" "$log"
check "rank 0 alone logs each step" test "$(grep -c '^step 6/6' "$log")" -eq 1
check "checkpoints of both expert shards" test -f run/ckpt-6/params.experts-0.safetensors -a \
  -f run/ckpt-6/params.experts-1.safetensors -a -d run/ckpt-3

# 2. Evaluate every checkpoint (job array), then the table (dependent job).
out=$("$bin" submit-eval --run run --examples 64 2>&1)
echo "$out"
table=$(job_id "table job" "$out")
array=$(job_id "evaluation array" "$out")
check "submit-eval prints both job ids" test -n "$array" -a -n "$table"
check "the table job completes after the array" wait_job "$table" COMPLETED 120
check "one array task per checkpoint" test -f "run/slurm/eval-${array}_0.out" -a -f "run/slurm/eval-${array}_1.out"
check "eval.json has both checkpoints" python3 -c "
import json, sys
rows = json.load(open('run/eval/eval.json'))['evaluations']
assert [r['step'] for r in rows] == [3, 6], rows
assert all(0 <= r['tasks']['fashion_mnist']['metrics']['accuracy'] <= 1 for r in rows), rows"
check "the chart" test -s run/eval/eval.png

# 3. Preemption with --requeue.
sed 's/max_steps: 6 /max_steps: 400 /; s/checkpoint_every: 3/checkpoint_every: 10/; s/log_every: 2/log_every: 100/' \
  two_ranks.pbtxt > long.pbtxt
out=$("$bin" submit --config long.pbtxt --run long --ntasks-per-node 2 --requeue 2>&1)
long=$(job_id "training job" "$out")
for _ in $(seq 300); do [[ -f long/latest ]] && break; sleep 0.1; done
scancel --signal=USR1 "$long"
# SLURM holds a requeued batch job for 121 s (BeginTime): release it once it is pending again.
for _ in $(seq 300); do
  info=$(scontrol show job "$long")
  grep -q "Restarts=1" <<<"$info" || { sleep 0.2; continue; }
  grep -qE "JobState=(RUNNING|COMPLETED|FAILED)" <<<"$info" && break
  grep -q "Reason=BeginTime" <<<"$info" && scontrol update JobId="$long" StartTime=now
  sleep 0.2
done
check "the requeued job completes" wait_job "$long" COMPLETED 120
llog="long/slurm/train-$long.out"
check "SIGUSR1: checkpoint and exit" grep -q "stopped after step .* on a signal" "$llog"
stopped=$(grep -oE "stopped after step [0-9]+" "$llog" | awk '{print $4}')
check "restart 1 resumes from that checkpoint" grep -q "resuming from .*/ckpt-$stopped " "$llog"
check "and runs to the end" grep -q "trained steps $((stopped + 1))-400" "$llog"

# 4. --dry-run: the script of a multi-node GPU job, nothing submitted.
out=$("$bin" submit --config two_ranks.pbtxt --run dry --nodes 4 --ntasks-per-node 8 --gpus-per-node 8 \
  --time 01:00:00 --partition gpu --dry-run 2>&1)
check "dry run: nodes, ranks, GPUs" grep -qE -- "--nodes=4" <<<"$out"
check "dry run: GPUs per node" grep -q -- "--gpus-per-node=8" <<<"$out"
check "dry run: srun --mpi=pmix" grep -q "srun --mpi=pmix" <<<"$out"
check "dry run: nothing written" test ! -e dry

if [[ $failures -ne 0 ]]; then
  for f in run/slurm/*.out long/slurm/*.out; do echo "== $f"; tail -n 12 "$f"; done
  echo "== slurmctld.log"; tail -n 20 "$cluster/log/slurmctld.log"
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
