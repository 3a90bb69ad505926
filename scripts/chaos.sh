#!/usr/bin/env bash
# A chaos run, for people (CI runs the shorter tests/integration/pipeline-chaos.test.ts):
# every role in its own `tributary start --no-infra --role <role>` process, the mock source changing
# with 429s and 5xx, N rounds (default 20) each killing -9 a random role and starting it again
# 1–4 s later, and kill -9 of Kafka (round 5), Postgres (10), the MongoDB server (14) and the
# registry (17), each just after the role depending on it restarted and followed by
# `tributary infra up`. Then the source pauses and scripts/chaos-check.ts prints every group's lag
# and the gold comparison.
#
#   scripts/chaos.sh [rounds]
#
# It kills the servers of the instance your environment points at (TRIBUTARY_DATA_DIR and the
# ports; default: the dev instance in .tributary/dev). A private instance:
#   TRIBUTARY_DATA_DIR=.tributary/chaos TRIBUTARY_KAFKA_PORT=19492 TRIBUTARY_REGISTRY_PORT=18481 \
#   TRIBUTARY_POSTGRES_PORT=15832 TRIBUTARY_MONGODB_PORT=17417 scripts/chaos.sh
# Settings (environment): CHAOS_ROUND_SECONDS (8, the time between rounds), CHAOS_OPS_PORT (9470,
# the first of the roles' /readyz ports), CHAOS_DRAIN_TIMEOUT_S (300), and any TRIBUTARY_* setting
# (the source's size and faults default to 2,000 workspaces, ~150 changes/s, 30 % 429, 10 % 5xx).
# Logs: one file per role in CHAOS_RUN_DIR (default .tributary/chaos-runs/<time>).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-${CHAOS_ROUNDS:-20}}
ROUND_SECONDS=${CHAOS_ROUND_SECONDS:-8}
OPS_PORT=${CHAOS_OPS_PORT:-9470}
RUN_DIR=${CHAOS_RUN_DIR:-.tributary/chaos-runs/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RUN_DIR"
TRIB=(node bin/tributary.mjs)
ROLES=(pollers bronze processor gold-postgres gold-mongo gateway)
# server rounds: the server, and the role that depends on it most, which is restarted first so that
# the server dies while that role joins its group, restores its state and fetches schemas
declare -A SERVER_AT=([5]=kafka [10]=postgres [14]=mongodb [17]=registry)
declare -A VICTIM_OF=([kafka]=processor [postgres]=bronze [mongodb]=gold-mongo [registry]=processor)

export TRIBUTARY_LOG_LEVEL=${TRIBUTARY_LOG_LEVEL:-warn}
export TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN=${TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN:-$(node -e "process.stdout.write(require('node:crypto').randomBytes(16).toString('hex'))")}
# a new seed per run: the jobs of this run are not those of an earlier run on the same instance
export TRIBUTARY_MOCK_SOURCE_SEED=${TRIBUTARY_MOCK_SOURCE_SEED:-$((RANDOM * 32768 + RANDOM))}
export TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES=${TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES:-2000}
export TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES=${TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES:-2000}
export TRIBUTARY_MOCK_SOURCE_TICK_MS=${TRIBUTARY_MOCK_SOURCE_TICK_MS:-100}
export TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK=${TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK:-15}
export TRIBUTARY_MOCK_SOURCE_FAULT_429_RATE=${TRIBUTARY_MOCK_SOURCE_FAULT_429_RATE:-0.3}
export TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE=${TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE:-0.1}
export TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND=${TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND:-1000}
export TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY=${TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY:-1000}
export TRIBUTARY_SOURCE_URL=${TRIBUTARY_SOURCE_URL:-http://127.0.0.1:${TRIBUTARY_MOCK_SOURCE_PORT:-4010}}

export CHAOS_STARTED_AT_MS=$(($(date +%s) * 1000))
declare -A PID=() PORT=() INCARNATION=()
SELF_EXITS=0
T0=$SECONDS
say() { printf '%5ds  %s\n' $((SECONDS - T0)) "$*"; }
random_pause() { # 1–4 s
  local ms=$((RANDOM % 3001 + 1000))
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

start_role() {
  local role=$1
  INCARNATION[$role]=$((${INCARNATION[$role]:-0} + 1))
  echo "--- $(date -u +%FT%TZ) incarnation ${INCARNATION[$role]}" >>"$RUN_DIR/$role.log"
  TRIBUTARY_OPS_PORT=${PORT[$role]} "${TRIB[@]}" start --no-infra --role "$role" >>"$RUN_DIR/$role.log" 2>&1 &
  PID[$role]=$!
}

kill9_role() {
  # two statements: `local a=$1 b=${X[$a]}` would expand $a before assigning it
  local role=$1
  local pid=${PID[$role]}
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# A supervisor's job: a role that exited by itself (it could not start, or gave up) starts again.
supervise() {
  local role code
  for role in "${ROLES[@]}"; do
    if ! kill -0 "${PID[$role]}" 2>/dev/null; then
      code=0
      wait "${PID[$role]}" 2>/dev/null || code=$?
      SELF_EXITS=$((SELF_EXITS + 1))
      say "$role exited by itself (code $code; see $RUN_DIR/$role.log): starting it again"
      start_role "$role"
    fi
  done
}
supervised_wait() { # seconds
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    sleep 1
    supervise
  done
}

wait_ready() { # role, seconds: until its /readyz answers 200
  local end=$((SECONDS + $2))
  while ((SECONDS < end)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$1]}/readyz" || true) == 200 ]] && return 0
    sleep 0.5
    supervise
  done
  return 1
}

infra_up() { # a health probe can time out on a loaded machine: try again before giving up
  local try
  for try in 1 2 3; do
    "${TRIB[@]}" infra up >>"$RUN_DIR/infra.log" 2>&1 && return 0
    say "infra up failed (try $try; see $RUN_DIR/infra.log)"
  done
  return 1
}

server_pid() {
  "${TRIB[@]}" infra status --json |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s).find(x=>x.name==='$1');process.stdout.write(String(r?.pid??''))})"
}

stop_all() {
  local role
  for role in "${ROLES[@]}" mock-source; do
    [[ -n ${PID[$role]:-} ]] && kill -TERM "${PID[$role]}" 2>/dev/null || true
  done
  for role in "${ROLES[@]}" mock-source; do
    [[ -n ${PID[$role]:-} ]] && wait "${PID[$role]}" 2>/dev/null || true
  done
}
trap stop_all EXIT

say "infra up (data: ${TRIBUTARY_DATA_DIR:-.tributary/dev}); logs in $RUN_DIR"
infra_up
PORT[mock-source]=$OPS_PORT
start_role mock-source
for i in "${!ROLES[@]}"; do PORT[${ROLES[$i]}]=$((OPS_PORT + 1 + i)); done
for role in "${ROLES[@]}"; do start_role "$role"; done
say "started ${ROLES[*]} (and the mock source at $TRIBUTARY_SOURCE_URL)"
supervised_wait "$ROUND_SECONDS"

for ((round = 1; round <= ROUNDS; round++)); do
  server=${SERVER_AT[$round]:-}
  if [[ -n $server ]]; then
    victim=${VICTIM_OF[$server]}
  else
    victim=${ROLES[$((RANDOM % ${#ROLES[@]}))]}
  fi
  kill9_role "$victim"
  say "round $round: kill -9 $victim"
  random_pause
  start_role "$victim"
  say "round $round: $victim started again"
  if [[ -n $server ]]; then
    wait_ready "$victim" 120 || say "round $round: $victim is not ready after 120 s"
    pid=$(server_pid "$server")
    if [[ -n $pid ]]; then
      kill -9 "$pid"
      say "round $round: $victim ready; kill -9 $server (pid $pid)"
      random_pause
      began=$SECONDS
      infra_up
      say "round $round: $server is back (infra up took $((SECONDS - began)) s)"
    else
      say "round $round: $server is not a local server of this instance; not killed"
    fi
  fi
  supervised_wait "$ROUND_SECONDS"
done

say "rounds done; $SELF_EXITS exits restarted by the supervisor. Pausing the source and draining"
status=0
node --import tsx scripts/chaos-check.ts || status=$?
for role in "${ROLES[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$role]}/readyz" || true)
  say "$role /readyz: $code"
  [[ $code == 200 ]] || status=1
done
exit "$status"
