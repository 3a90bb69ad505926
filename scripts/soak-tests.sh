#!/usr/bin/env bash
# Runs the whole suite (`npm test`: lint, typecheck, unit and integration tests) N times in a row
# under CPU pressure and prints one line per run, then a summary. Exits non-zero if any run failed.
#
#   scripts/soak-tests.sh [N]        (default N = 5)
#
# Each run starts from a clean state: TRIBUTARY_TEST_INFRA is unset, so the suite's global setup
# deletes .tributary/test and starts its own fresh Kafka, registry, Postgres and MongoDB, and stops
# them at the end (tests/support/global-setup.ts).
#
# CPU pressure: SOAK_HOGS busy loops (`nice -n 19 node -e 'for(;;){}'`, default 2, one per core of
# the usual 2-core CI machine) run during the first part of every run. They are niced, so they take
# the CPU time the suite leaves and slow everything that waits on timers, the way a shared CI machine
# does. How long they run: SOAK_HOG_SECONDS if set (0 = no hog, `whole` = the whole run), otherwise
# half of the previous run's duration (300 s before the first run's duration is known).
#
# Each run's output goes to .tributary/soak/<start time>/run-<i>.log. A red run is a bug to find
# (read its log), not a reason to retry.
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/soak-tests.sh [N]   (N: how many full runs, at least 1)" >&2
  exit 2
fi
hogs="${SOAK_HOGS:-2}"
hog_setting="${SOAK_HOG_SECONDS:-}"
if ! [[ "$hogs" =~ ^[0-9]+$ ]] || ! [[ "$hog_setting" =~ ^([0-9]+|whole)?$ ]]; then
  echo "SOAK_HOGS must be a number; SOAK_HOG_SECONDS a number of seconds or 'whole'" >&2
  exit 2
fi
unset TRIBUTARY_TEST_INFRA # a fresh instance per run, never a reused one

dir=".tributary/soak/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$dir"
hog_pids=()

stop_hogs() {
  local pid
  for pid in "${hog_pids[@]}"; do
    kill "$pid" 2>/dev/null # already gone when its time was up: nothing to do
  done
  for pid in "${hog_pids[@]}"; do
    wait "$pid" 2>/dev/null
  done
  hog_pids=()
}
suite_pid=""
on_exit() {
  stop_hogs
  if [[ -n "$suite_pid" ]]; then
    # The suite runs in its own process group (setsid): this stops npm, vitest and the roles it
    # spawned. Its test servers may stay up; the next `npm test` stops them before starting afresh.
    kill -TERM -- "-$suite_pid" 2>/dev/null
    wait "$suite_pid" 2>/dev/null
  fi
}
trap on_exit EXIT
trap 'echo "soak: interrupted" >&2; exit 130' INT TERM

start_hogs() {
  local seconds="$1" i
  ((hogs == 0)) || [[ "$seconds" == 0 ]] && return
  for ((i = 0; i < hogs; i++)); do
    if [[ "$seconds" == whole ]]; then
      nice -n 19 node -e 'for(;;){}' &
    else
      timeout "$seconds" nice -n 19 node -e 'for(;;){}' &
    fi
    hog_pids+=("$!")
  done
}

fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# The failing tests of a run, from vitest's " FAIL  <project>  <file> > <suite> > <test>" lines, or
# the step that failed before vitest ran.
failures() {
  local log="$1" list
  list=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -nE 's/^ *FAIL +[^ ]+ +(.*)$/\1/p' | sort -u | paste -sd ';' -)
  if [[ -n "$list" ]]; then
    echo "${list//;/; }"
  elif grep -q 'Test Files' "$log"; then
    echo "see $log"
  else
    echo "npm run check or the suite's setup failed, see $log"
  fi
}

passed=0
previous=""
summary=()
for ((i = 1; i <= runs; i++)); do
  if [[ -n "$hog_setting" ]]; then
    hog_seconds="$hog_setting"
  elif [[ -n "$previous" ]]; then
    hog_seconds=$((previous / 2))
  else
    hog_seconds=300
  fi
  log="$dir/run-$i.log"
  started=$(date +%s)
  start_hogs "$hog_seconds"
  setsid npm test >"$log" 2>&1 &
  suite_pid=$!
  wait "$suite_pid"
  code=$?
  suite_pid=""
  stop_hogs
  duration=$(($(date +%s) - started))
  previous=$duration
  hog_note="$hogs hog(s) for ${hog_seconds}s"
  [[ "$hogs" == 0 || "$hog_seconds" == 0 ]] && hog_note="no hog"
  if ((code == 0)); then
    line="run $i/$runs: pass ($(fmt "$duration"), $hog_note)"
    passed=$((passed + 1))
  else
    line="run $i/$runs: fail ($(fmt "$duration"), $hog_note, $(failures "$log"))"
  fi
  echo "$line"
  summary+=("$line")
done

echo "soak: $passed/$runs runs passed (logs in $dir)"
printf '%s\n' "${summary[@]}" >"$dir/summary.txt"
((passed == runs))
