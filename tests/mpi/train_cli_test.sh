#!/usr/bin/env bash
# `onemodel train` under mpirun, as a user runs it (real Fashion-MNIST data, 2 ranks, EP 2):
# - it trains, rank 0 alone prints, and the checkpoint holds both ranks' experts (and loads in `inspect`);
# - preemption: SIGUSR1 to one rank -> every rank stops at the same step with a checkpoint, exit 4; the same
#   command resumes from it;
# - a rank that stops answering (SIGSTOP) -> every rank exits non-zero within distributed.timeout_seconds, the
#   message names the rank; the last checkpoint stays loadable;
# - a rank killed mid-step (SIGKILL) -> every rank exits non-zero within the timeout, the dead rank named.
set -uo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools/onemodel"
tmp="${TEST_TMPDIR}"
failures=0
session=$(mktemp -d /tmp/om-mpi.XXXXXX)  # OpenMPI's session files (short: PMIx puts sockets there)
export TMPDIR="$session"
trap 'rm -rf "$session"' EXIT

ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
check() {  # check NAME command...
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

# The shared tiny config, with a 5 s failure timeout.
config="$tmp/two_ranks.pbtxt"
sed 's/timeout_seconds: 60/timeout_seconds: 5/' "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/configs/two_ranks.pbtxt" > "$config"
mpi() { OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$@"; }

# 1. Train on two ranks.
out=$(mpi "$bin" train --config "$config" --run "$tmp/run" 2>&1)
status=$?
printf '%s\n' "$out" > "$tmp/train.log"
check "2-rank train exits 0" test $status -eq 0
check "rank 0 says 2 ranks, EP 2 x DP 1" grep -q "ranks: 2 (expert-parallel 2 x data-parallel 1)" "$tmp/train.log"
check "one progress line per log step (rank 0 alone prints)" test "$(grep -c '^step 2/6' "$tmp/train.log")" -eq 1
check "checkpoint holds both expert shards" test -f "$tmp/run/ckpt-6/params.experts-0.safetensors" -a \
  -f "$tmp/run/ckpt-6/params.experts-1.safetensors"
check "inspect reads it" bash -c "'$bin' inspect '$tmp/run' | grep -q 'written by 2 rank'"

# Starts a long 2-rank run in the background; waits for its first checkpoint. Sets $job, $run.
start_long_run() {
  run="$tmp/$1"
  sed 's/max_steps: 6 /max_steps: 100000 /' "$config" > "$tmp/long.pbtxt"
  mpi "$bin" train --config "$tmp/long.pbtxt" --run "$run" > "$tmp/$1.log" 2>&1 &
  job=$!
  for _ in $(seq 300); do [[ -f "$run/latest" ]] && break; sleep 0.1; done
  [[ -f "$run/latest" ]] || { fail "$1: no first checkpoint"; cat "$tmp/$1.log"; }
}
rank_pid() { awk '$1 == "pid" {print $2}' "$run/heartbeat/rank-$1"; }
# wait_exit SECONDS: waits for $job; sets $status and $elapsed.
wait_exit() {
  local start=$SECONDS rc
  status=0
  for _ in $(seq $(($1 * 10))); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
  elapsed=$((SECONDS - start))
  if kill -0 $job 2>/dev/null; then
    status=999
    pkill -KILL -P $job; kill -KILL $job
  fi
  wait $job
  rc=$?
  [[ $status == 999 ]] || status=$rc
}

# 2. Preemption: SIGUSR1 to rank 1 only.
start_long_run preempt
kill -USR1 "$(rank_pid 1)"
wait_exit 30
check "SIGUSR1: exit 4 (stopped with a checkpoint)" test $status -eq 4
check "SIGUSR1: rank 0 says so" grep -q "stopped after step .* on a signal" "$tmp/preempt.log"
stopped_at=$(sed 's/ckpt-//' "$run/latest")
sed 's/max_steps: 6 /max_steps: '$((stopped_at + 2))' /' "$config" > "$tmp/resume.pbtxt"
out=$(mpi "$bin" train --config "$tmp/resume.pbtxt" --run "$run" 2>&1)
check "the same command resumes at the next step" grep -q "resuming from .*ckpt-$stopped_at " <<<"$out"

# expect_named_failure NAME SIGNAL PATTERN: SIGNAL to rank 1 of a running job ends every rank non-zero within
# the 5 s timeout (+3 s), with a message matching PATTERN, and the last checkpoint loads.
expect_named_failure() {
  start_long_run "$1"
  kill "-$2" "$(rank_pid 1)"
  wait_exit 30
  check "SIG$2: non-zero exit" test $status -ne 0 -a $status -ne 999
  check "SIG$2: within the timeout" test $elapsed -le 8
  check "SIG$2: rank 1 named" grep -qE "$3" "$tmp/$1.log"
  check "SIG$2: the last checkpoint loads" "$bin" inspect "$run" > /dev/null
}
# 3. A rank that stops answering: the watchdog names it.
expect_named_failure hang STOP "rank 1 \(pid [0-9]+ on .*\): no heartbeat .* stopped answering"
# 4. A rank killed mid-step: mpirun ends the job (or the watchdog, under a launcher that does not).
expect_named_failure kill KILL "rank 1 .*(no longer exists|exited on signal 9)"

if [[ $failures -ne 0 ]]; then
  for log in train preempt hang kill; do echo "== $log.log"; tail -n 15 "$tmp/$log.log"; done
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
