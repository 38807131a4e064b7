#!/usr/bin/env bash
# `selfadapt run` with reference numbers in the config, then `selfadapt report`
# on the run: reference.json is written, the leaderboard shows the run's mean
# error over corrupted cells (as summary.csv has it) beside the published numbers.
# usage: test_report.sh path/to/selfadapt
set -eu
bin=$1
root=${SA_SOURCE_ROOT:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/ref.yaml" <<YAML
run: {name: ref, output: $work/results}
model: {path: $root/models/fmnist_resnet20.pt}
data: {limit: 64, batch_size: 32}
shift: {clean: true, corruptions: [contrast, gaussian_noise], severities: [5]}
methods:
  - name: source
    reference: {mCE: 76.7}
  - name: rpl
    reference: {mCE: 50.5, imagenet_r: 17.4}
reference: {model: ResNet-50, source: "published <table> & site"}
YAML
"$bin" run --quiet "$work/ref.yaml" > /dev/null
run=$work/results/ref
grep -q '"format": "selfadapt-reference/1"' "$run/reference.json"
grep -q '"method": "rpl", "mCE": 50.5, "imagenet_r": 17.4' "$run/reference.json"

"$bin" report "$run" --out "$work/board" > "$work/out.txt" 2> "$work/err.txt"
cat "$work/out.txt"
for f in leaderboard.md leaderboard.csv leaderboard.json errors.svg; do
  [ -s "$work/board/$f" ] || { echo "FAIL: no $f"; exit 1; }
done
head -1 "$work/board/leaderboard.csv" | grep -qx 'model / method,mCE,mCE (paper),IN-R err,IN-R err (paper),fmnist err,fmnist clean' \
  || { echo "FAIL: header: $(head -1 "$work/board/leaderboard.csv")"; exit 1; }
# the mean over corrupted cells equals summary.csv's "mean (corrupted)" row
want=$(grep '^mean (corrupted),' "$run/summary.csv" | cut -d, -f2)
got=$(grep '^fmnist_resnet20 / source,' "$work/board/leaderboard.csv" | cut -d, -f6)
[ "$want" = "$got" ] || { echo "FAIL: source mean error $got, summary says $want"; exit 1; }
grep -q '^fmnist_resnet20 / rpl,,50.5000,,17.4000,' "$work/board/leaderboard.csv" \
  || { echo "FAIL: rpl row"; cat "$work/board/leaderboard.csv"; exit 1; }
grep -q 'published &lt;table&gt; &amp; site\|published <table> & site' "$work/board/leaderboard.json"
grep -q 'published <table> & site' "$work/out.txt"
n=$(grep -o '<rect' "$work/board/errors.svg" | wc -l)
[ "$n" = 4 ] || { echo "FAIL: $n bars, want 4"; exit 1; }
# not a run directory: one line naming it, exit 1
if "$bin" report "$work" 2> "$work/err.txt"; then echo "FAIL: report on a non-run"; exit 1; fi
grep -q "$work has no cells/ directory" "$work/err.txt"
echo "ok report"
