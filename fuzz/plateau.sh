#!/usr/bin/env bash
# Fuzz one target to a coverage plateau (docs/reliability.md, "Fuzzing").
#
#   (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O)     # first
#   fuzz/plateau.sh <target> [step seconds, default 180] [cap seconds, default 1200]
#
# It runs the built binary directly (not `cargo fuzz run`), so sources edited meanwhile are
# not rebuilt into the middle of a measurement.
# Repeated single-process runs (-jobs=1 equivalent) of STEP seconds from a working corpus
# (work/<target>, seeded from seeds/<target>.list and any local corpus/<target>) until a run adds < 1% new coverage features
# (ft at the end vs ft after loading the corpus), or CAP seconds in total. Then a libFuzzer
# merge (what `cargo fuzz cmin` runs) minimises the working corpus into corpus/<target>. One line per step goes to
# work/<target>.steps: step, runs, exec/s, cov and ft at start and end, corpus size.
# Crashes land in artifacts/<target>/ and stop the loop.
set -euo pipefail
cd "$(dirname "$0")"
target=$1 step=${2:-180} cap=${3:-1200}
bin=target/x86_64-unknown-linux-gnu/release/$target
[[ -x $bin ]] || { echo "build first: RUSTC_BOOTSTRAP=1 cargo fuzz build -O" >&2; exit 2; }
work=work/$target
mkdir -p "$work" "artifacts/$target"
# Seeds (the list the CI replay reads too), then any corpus an earlier run left here.
while read -r seed; do
  [[ -n $seed ]] && find "../$seed" -maxdepth 1 -type f -exec cp -n {} "$work"/ \;
done < "seeds/$target.list"
mkdir -p corpus/"$target"
cp -n corpus/"$target"/* "$work"/ 2>/dev/null || true
: > "$work.steps"
elapsed=0 n=0
while (( elapsed < cap )); do
  n=$((n + 1))
  log=$work.step$n.log
  start=$(date +%s)
  set +e
  nice -n 10 "$bin" "$work" -artifact_prefix="artifacts/$target/" \
    -max_total_time="$step" -timeout=10 -rss_limit_mb=2048 -dict="dicts/$target.dict" \
    -print_final_stats=1 > "$log" 2>&1
  rc=$?
  set -e
  elapsed=$((elapsed + $(date +%s) - start))
  inited=$(grep -m1 -E '#[0-9]+\s+INITED' "$log" || true)
  last=$(grep -E '#[0-9]+\s+(DONE|NEW|REDUCE|pulse)' "$log" | tail -1 || true)
  ft0=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<< "$inited")
  cov0=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$inited")
  ft1=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<< "$last")
  cov1=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$last")
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log")
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log")
  files=$(find "$work" -type f | wc -l)
  echo "step=$n secs=$step runs=${runs:-?} exec_per_s=${eps:-?} cov=${cov0:-?}->${cov1:-?} ft=${ft0:-?}->${ft1:-?} corpus=$files rc=$rc" | tee -a "$work.steps"
  if (( rc != 0 )); then
    echo "stopped: the fuzzer exited with $rc (crash, timeout or OOM?): see $log" | tee -a "$work.steps"
    exit "$rc"
  fi
  if [[ -n "${ft0:-}" && -n "${ft1:-}" ]] && (( (ft1 - ft0) * 100 < ft0 )); then
    echo "plateau: step $n added $((ft1 - ft0)) features (< 1% of $ft0)" | tee -a "$work.steps"
    break
  fi
done
tmp=$(mktemp -d)
nice -n 10 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$tmp" "$work" > "$work.cmin.log" 2>&1
rm -f corpus/"$target"/*
cp "$tmp"/* corpus/"$target"/
rm -rf "$tmp"
echo "cmin: $(ls corpus/"$target" | wc -l) files, $(du -sh corpus/"$target" | cut -f1)" | tee -a "$work.steps"
