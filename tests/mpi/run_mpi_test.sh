#!/usr/bin/env bash
# Runs a multi-rank test binary under mpirun at every rank count given (OpenMPI; DESIGN §7: as root mpirun needs
# --allow-run-as-root, and 4 ranks on 2 cores need --oversubscribe).
# usage: run_mpi_test.sh BINARY RANKS...
set -uo pipefail
binary="${TEST_SRCDIR}/${TEST_WORKSPACE}/$1"
shift
status=0
# OpenMPI keeps its session files under TMPDIR: one short private directory per run, so that concurrent mpirun
# jobs (tests run in parallel) never meet; short because PMIx puts unix sockets there.
session=$(mktemp -d /tmp/om-mpi.XXXXXX)
trap 'rm -rf "$session"' EXIT
export TMPDIR="$session"
for ranks in "$@"; do
  echo "== $ranks rank(s)"
  # OMP_NUM_THREADS=1: the ranks share the cores.
  # Every rank would write the same gtest premature-exit and XML files: those are for single processes.
  if ! env -u TEST_PREMATURE_EXIT_FILE -u XML_OUTPUT_FILE OMP_NUM_THREADS=1 timeout 120 \
      mpirun --allow-run-as-root --oversubscribe -np "$ranks" --bind-to none "$binary"; then
    echo "FAILED at $ranks rank(s)"
    status=1
  fi
done
exit $status
