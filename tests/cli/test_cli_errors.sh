#!/usr/bin/env bash
# Bad input to `selfadapt run`: a non-zero exit, one clear line naming the
# file and the key or line, and no result files.
# usage: test_cli_errors.sh path/to/selfadapt
set -u
bin=$1
root=${SA_SOURCE_ROOT:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# A valid config; each case edits one line of it.
base() {
  cat <<YAML
run: {name: bad, output: $work/results}
model: {path: $root/models/fmnist_resnet20.pt}
data: {limit: 64}
shift: {corruptions: [contrast], severities: [1]}
methods: [source]
YAML
}

# check NAME CONFIG-TEXT EXPECTED-SUBSTRING...
check() {
  local name=$1 text=$2
  shift 2
  printf '%s\n' "$text" > "$work/$name.yaml"
  local out rc ok=1
  out=$("$bin" run --quiet "$work/$name.yaml" 2>&1 >/dev/null)
  rc=$?
  [ "$rc" -ne 0 ] || { echo "  $name: exit status 0"; ok=0; }
  for want in "$@"; do
    case "$out" in *"$want"*) ;; *) echo "  $name: message lacks '$want': $out"; ok=0 ;; esac
  done
  [ "$(printf '%s\n' "$out" | grep -c .)" -le 2 ] || { echo "  $name: more than two lines: $out"; ok=0; }
  if [ -e "$work/results" ]; then echo "  $name: wrote $work/results"; ok=0; rm -rf "$work/results"; fi
  if [ $ok = 1 ]; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

check missing-model "$(base | sed 's#models/fmnist_resnet20.pt#models/none.pt#')" \
  "missing-model.yaml:2:" "model.path" "none.pt"
check missing-data "$(base | sed "s#data: {limit: 64}#data: {limit: 64, dir: $work/nodata}#")" \
  "missing-data.yaml:3:" "data.dir" "nodata"
check malformed "$(base | sed 's#methods: \[source\]#methods: [source#')" \
  "malformed.yaml:" "malformed YAML"
check unknown-method "$(base | sed 's#methods: \[source\]#methods: [source, tent3]#')" \
  "unknown-method.yaml:5:19" "methods[1].name" "tent3" "expected one of"
check unknown-corruption "$(base | sed 's#\[contrast\]#[contrast, fogg]#')" \
  "unknown-corruption.yaml:4:33" "fogg" "gaussian_noise"
check unknown-key "$(base | sed 's#data: {limit: 64}#data: {limit: 64, batchsize: 3}#')" \
  "unknown-key.yaml:3:19" "data.batchsize" "batch_size"
check wrong-type "$(base | sed 's#limit: 64#limit: lots#')" \
  "wrong-type.yaml:3:15" "data.limit" "integer"
check out-of-range "$(base | sed 's#severities: \[1\]#severities: [9]#')" \
  "out-of-range.yaml:4:47" "severities[0]" "1..5"
check not-a-model "$(base | sed "s#$root/models/fmnist_resnet20.pt#$root/configs/demo.yaml#")" \
  "not-a-model.yaml:2:" "model.path" "TorchScript"

# A config file that does not exist.
out=$("$bin" run "$work/nope.yaml" 2>&1 >/dev/null); rc=$?
if [ $rc -ne 0 ] && [[ "$out" == *"nope.yaml"* ]]; then passed=$((passed + 1)); echo "ok   missing-config"
else failed=$((failed + 1)); echo "FAIL missing-config: $out"; fi
# An unknown option.
out=$("$bin" run --frobnicate 2>&1 >/dev/null); rc=$?
if [ $rc -eq 2 ] && [[ "$out" == *"--frobnicate"* ]]; then passed=$((passed + 1)); echo "ok   unknown-option"
else failed=$((failed + 1)); echo "FAIL unknown-option: $out"; fi

echo "cli-errors: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
