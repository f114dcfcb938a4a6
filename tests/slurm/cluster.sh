#!/usr/bin/env bash
# A real one-node SLURM cluster on loopback, for tests (DESIGN §7): munged with its own key and socket, slurmctld
# and slurmd on free ports, all state, logs and spool under one directory, no systemd.
#   cluster.sh up DIR     installs slurmctld/slurmd/slurm-client/munge when missing, starts the daemons, waits
#                         for the node; then `export SLURM_CONF=DIR/slurm.conf` points the clients at it.
#   cluster.sh down DIR   cancels the cluster's jobs, stops the daemons it started (by PID, nothing else).
set -euo pipefail
command=${1:?usage: cluster.sh up|down DIR}
dir=${2:?usage: cluster.sh up|down DIR}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

up() {
  local missing=()
  for tool in slurmctld slurmd sbatch munged; do command -v "$tool" > /dev/null || missing+=("$tool"); done
  if (( ${#missing[@]} )); then
    echo "cluster.sh: installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurmctld slurmd slurm-client munge > "$dir.apt.log" 2>&1 \
      || { echo "cluster.sh: apt-get install failed (see $dir.apt.log)"; exit 1; }
  fi
  mkdir -p "$dir"/{state,spool,log}
  mungekey --create --keyfile="$dir/munge.key" --force 2> /dev/null || dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 2> /dev/null
  chmod 600 "$dir/munge.key"
  munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"
  local cpus user
  cpus=$(nproc)
  user=$(id -un)
  cat > "$dir/slurm.conf" <<CONF
ClusterName=onemodel-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
ReturnToService=2
JobRequeue=1
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -i
  slurmd -N localhost
  for _ in $(seq 100); do
    if sinfo -h -o %T 2> /dev/null | grep -qE '^idle'; then
      echo "cluster.sh: up in $dir (SLURM_CONF=$dir/slurm.conf, $cpus CPUs)"
      return 0
    fi
    sleep 0.1
  done
  echo "cluster.sh: the node did not come up; slurmctld/slurmd logs:"
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" 2> /dev/null
  down
  exit 1
}

down() {
  export SLURM_CONF="$dir/slurm.conf"
  # Jobs first: slurmstepd outlives slurmd.
  if [[ -f "$SLURM_CONF" ]]; then
    scancel --full --quiet $(squeue -h -o %i 2> /dev/null) 2> /dev/null || true
    for _ in $(seq 50); do [[ -z "$(squeue -h -o %i 2> /dev/null)" ]] && break; sleep 0.1; done
  fi
  for daemon in slurmd slurmctld munged; do
    local pidfile="$dir/$daemon.pid"
    [[ -f "$pidfile" ]] || continue
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2> /dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null || true
    rm -f "$pidfile"
  done
}

case "$command" in
  up) up ;;
  down) down ;;
  *) echo "usage: cluster.sh up|down DIR" >&2; exit 2 ;;
esac
