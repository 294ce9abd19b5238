#!/usr/bin/env bash
# Prove the Slurm path of docs/scaling.md on a real scheduler: start a one-node Slurm
# cluster (munged + slurmctld + slurmd) on this machine, run a sharded `delever mc` and a
# sharded `delever sweep` as job arrays (`sbatch --array`), merge the shards, and compare
# the merged output byte for byte with the run without shards.
#
# Installs Debian's slurm-wlm and munge when they are missing (CI runs as root). Every
# file (keys, sockets, state, logs, shards) lives in one temp directory, removed at the
# end; the daemons listen on 127.0.0.1 only and are stopped at the end, pass or fail.
# Bounded: each wait has a timeout, and the whole step takes about a minute.
#
#   tests/cluster/run.sh          # needs root (daemons, apt-get)
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
  echo "error: the Slurm cluster test runs its own slurmctld/slurmd and needs root" >&2
  exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "installing Debian's slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
fi
slurmctld -V

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --quiet
delever="$(cd "$target/release" && pwd)/delever"

T="$(mktemp -d /tmp/delever-slurm.XXXXXX)"
chmod 700 "$T"
pids=()
cleanup() {
  local code=$?
  # Cancel whatever is left, then stop the daemons we started (and only those).
  if [ -f "$T/slurm.conf" ]; then
    SLURM_CONF="$T/slurm.conf" scancel --quiet --user=root 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$code" -ne 0 ]; then
    echo "--- slurmctld log (tail)" >&2; tail -n 30 "$T/log/slurmctld.log" 2>/dev/null >&2 || true
    echo "--- slurmd log (tail)" >&2; tail -n 30 "$T/log/slurmd.log" 2>/dev/null >&2 || true
    echo "--- munged log (tail)" >&2; tail -n 10 "$T/log/munged.log" 2>/dev/null >&2 || true
  fi
  rm -rf "$T"
  exit "$code"
}
trap cleanup EXIT INT TERM

mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/log" "$T/work/shards" "$T/work/logs"
chmod 700 "$T/munge"

# munge: a fresh key and its own socket, so a host munged (if any) is left alone.
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
munged --foreground --force --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/seed" \
  --log-file="$T/log/munged.log" 2>>"$T/log/munged.err" &
pids+=("$!")
for _ in $(seq 100); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.sock" ] || { echo "error: munged did not start" >&2; exit 1; }

# Free TCP ports on loopback for slurmctld and slurmd (not Slurm's defaults, so a host
# cluster is left alone).
read -r ctld_port slurmd_port < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
PY
)
node="$(hostname -s)"
cpus="$(nproc)"
cat > "$T/slurm.conf" <<EOF
ClusterName=delever-ci
SlurmctldHost=${node}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool/%n
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
PartitionName=ci Nodes=${node} Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"

# In the foreground (-D) so that $! is the daemon; their logs go to files, shown on failure.
slurmctld -D -c -f "$SLURM_CONF" 2>>"$T/log/slurmctld.err" &
pids+=("$!")
slurmd -D -N "$node" -f "$SLURM_CONF" 2>>"$T/log/slurmd.err" &
pids+=("$!")

state=""
for _ in $(seq 150); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)"
  [ "$state" = "idle" ] && break
  sleep 0.2
done
if [ "$state" != "idle" ]; then
  echo "error: the Slurm node did not come up (state: '${state:-none}')" >&2
  exit 1
fi
sinfo
up=$(date +%s)

W="$T/work"
scenario="$(pwd)/scenarios/semis-sentiment-reversal.yaml"
N=4
draws=400
seed=20261202
vary=(--vary 'shocks[0].return=-0.02:-0.40:24' --vary 'defaults.impact.y=0.5,1.0')

# The job scripts are docs/scaling.md's, with this cluster's paths. Exit 3 (some draw did
# not converge) counts as a success there; rows say which.
cat > "$W/mc-array.sh" <<EOF
#!/bin/bash
#SBATCH --job-name=delever-mc
#SBATCH --array=0-$((N - 1))
#SBATCH --cpus-per-task=1
#SBATCH --output=$W/logs/mc_%A_%a.out
set -euo pipefail
K=\${SLURM_ARRAY_TASK_ID}
"$delever" --threads "\${SLURM_CPUS_PER_TASK}" \\
  mc "$scenario" --draws $draws --seed $seed \\
  --shard "\${K}/$N" -o "$W/shards/mc-\${K}.jsonl" || [ \$? -eq 3 ]
EOF
cat > "$W/sweep-array.sh" <<EOF
#!/bin/bash
#SBATCH --job-name=delever-sweep
#SBATCH --array=0-$((N - 1))
#SBATCH --cpus-per-task=1
#SBATCH --output=$W/logs/sweep_%A_%a.out
set -euo pipefail
K=\${SLURM_ARRAY_TASK_ID}
"$delever" --threads "\${SLURM_CPUS_PER_TASK}" \\
  sweep "$scenario" ${vary[*]@Q} \\
  --shard "\${K}/$N" -o "$W/shards/sweep-\${K}.jsonl" || [ \$? -eq 3 ]
EOF

# --wait blocks until every task of the array has finished and fails if one failed.
( cd "$W" && timeout 600 sbatch --wait --quiet mc-array.sh ) &
mc_job=$!
( cd "$W" && timeout 600 sbatch --wait --quiet sweep-array.sh ) &
sweep_job=$!
ok=1
wait "$mc_job" || { echo "error: the mc job array failed" >&2; ok=0; }
wait "$sweep_job" || { echo "error: the sweep job array failed" >&2; ok=0; }
if [ "$ok" -ne 1 ]; then
  tail -n 20 "$W"/logs/*.out >&2 || true
  exit 1
fi
ran=$(date +%s)
ls "$W/shards"
for k in $(seq 0 $((N - 1))); do
  for kind in mc sweep; do
    [ -s "$W/shards/$kind-$k.jsonl" ] || { echo "error: shard $kind-$k.jsonl missing" >&2; exit 1; }
  done
done

# Merge and compare with the single run, in every output format.
fail=0
for fmt in json csv table; do
  code=0
  "$delever" --quiet merge "$W"/shards/mc-*.jsonl --format "$fmt" -o "$W/mc-merged.$fmt" || code=$?
  [ "$code" -eq 0 ] || [ "$code" -eq 3 ] || { echo "error: merge of mc exited $code" >&2; exit 1; }
  code=0
  "$delever" --quiet mc "$scenario" --draws "$draws" --seed "$seed" --format "$fmt" \
    -o "$W/mc-single.$fmt" || code=$?
  [ "$code" -eq 0 ] || [ "$code" -eq 3 ] || { echo "error: mc exited $code" >&2; exit 1; }
  if cmp "$W/mc-merged.$fmt" "$W/mc-single.$fmt"; then
    echo "mc $fmt: the merged Slurm shards equal the single run ($(wc -c < "$W/mc-single.$fmt") bytes)"
  else
    fail=1
  fi

  code=0
  "$delever" --quiet merge "$W"/shards/sweep-*.jsonl --format "$fmt" -o "$W/sweep-merged.$fmt" || code=$?
  [ "$code" -eq 0 ] || [ "$code" -eq 3 ] || { echo "error: merge of sweep exited $code" >&2; exit 1; }
  code=0
  "$delever" --quiet sweep "$scenario" "${vary[@]}" --format "$fmt" -o "$W/sweep-single.$fmt" || code=$?
  [ "$code" -eq 0 ] || [ "$code" -eq 3 ] || { echo "error: sweep exited $code" >&2; exit 1; }
  if cmp "$W/sweep-merged.$fmt" "$W/sweep-single.$fmt"; then
    echo "sweep $fmt: the merged Slurm shards equal the single run ($(wc -c < "$W/sweep-single.$fmt") bytes)"
  else
    fail=1
  fi
done
# The job really ran as an array under Slurm: one log per task.
logs=$(find "$W/logs" -name '*_*_*.out' | wc -l)
if [ "$logs" -ne $((2 * N)) ]; then
  echo "error: expected $((2 * N)) array task logs, found $logs" >&2
  fail=1
fi
[ "$fail" -eq 0 ] || { echo "error: merged shards differ from the single run" >&2; exit 1; }

end=$(date +%s)
echo "Slurm cluster test passed: install+build $((up - start)) s, arrays $((ran - up)) s, total $((end - start)) s"
