#!/usr/bin/env bash
# `selfadapt corrupt` end to end: layout, resume, thread-count independence,
# bad inputs, refused output locations and name errors.
# usage: test_corrupt_cli.sh path/to/selfadapt path/to/make_image_tree
set -u
bin=$1
mk=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

"$mk" "$work/in" || { echo "cannot build the fixture tree"; exit 1; }
corr=pixelate,jpeg_compression,elastic_transform,contrast
run() { "$bin" corrupt --input "$work/in" --corruptions "$corr" --severities 1,3 "$@"; }

# 1. Layout: 6 good images x 4 corruptions x 2 severities, the broken file
# reported with its path and counted, exit status 0 without --strict.
out=$(run --output "$work/o1" --threads 1 2>&1); rc=$?
n=$(find "$work/o1" -type f | wc -l)
if [ $rc -eq 0 ] && [ "$n" -eq 48 ]; then ok layout; else bad layout "rc=$rc files=$n: $out"; fi
for f in contrast/1/class_a/a1.JPEG elastic_transform/3/class_a/a2.JPEG pixelate/3/class_b/b3.JPEG \
         jpeg_compression/1/class_b/b1.JPEG; do
  [ -s "$work/o1/$f" ] || bad "layout-$f" "missing"
done
case "$out" in *"broken.jpg"*"failed 1"*) ok bad-file-reported ;; *) bad bad-file-reported "$out" ;; esac
case "$out" in *"written 48, skipped 0"*) ok summary ;; *) bad summary "$out" ;; esac
[ -z "$(find "$work/o1" -name '*.tmp.*')" ] && ok no-temp-files || bad no-temp-files "left behind"

# 2. Resume: a second run writes nothing and skips everything.
out=$(run --output "$work/o1" 2>&1); rc=$?
case "$out" in *"written 0, skipped 48"*) [ $rc -eq 0 ] && ok resume || bad resume "rc=$rc" ;;
  *) bad resume "$out" ;; esac

# 3. A removed output is rebuilt identically.
cp "$work/o1/elastic_transform/3/class_a/a1.JPEG" "$work/keep.JPEG"
rm "$work/o1/elastic_transform/3/class_a/a1.JPEG"
out=$(run --output "$work/o1" 2>&1)
if cmp -s "$work/keep.JPEG" "$work/o1/elastic_transform/3/class_a/a1.JPEG"; then ok rebuild-identical
else bad rebuild-identical "$out"; fi

# 4. Thread count does not change a byte (fast and numpy generators, png).
run --output "$work/o2" --threads 2 >/dev/null 2>&1
if diff -r "$work/o1" "$work/o2" >/dev/null; then ok threads-fast; else bad threads-fast "trees differ"; fi
run --output "$work/n1" --threads 1 --rng numpy --seed 5 --format png --size keep >/dev/null 2>&1
run --output "$work/n2" --threads 2 --rng numpy --seed 5 --format png --size keep >/dev/null 2>&1
n=$(find "$work/n1" -name '*.png' | wc -l)
if [ "$n" -eq 48 ] && diff -r "$work/n1" "$work/n2" >/dev/null; then ok threads-numpy-png
else bad threads-numpy-png "files=$n or trees differ"; fi
# A different seed changes the random corruptions.
run --output "$work/n3" --threads 2 --rng numpy --seed 6 --format png --size keep >/dev/null 2>&1
if cmp -s "$work/n1/elastic_transform/3/class_a/a1.png" "$work/n3/elastic_transform/3/class_a/a1.png"
then bad seed-matters "same bytes"; else ok seed-matters; fi

# 5. --strict: the broken file is fatal.
out=$(run --output "$work/o3" --strict 2>&1); rc=$?
case "$out" in *"broken.jpg"*) [ $rc -ne 0 ] && ok strict || bad strict "rc=$rc" ;;
  *) bad strict "rc=$rc $out" ;; esac

# 6. Output inside the input tree is refused, and nothing is written.
out=$(run --output "$work/in/class_a/out" 2>&1); rc=$?
if [ $rc -ne 0 ] && [ ! -e "$work/in/class_a/out" ]; then
  case "$out" in *"inside the input"*) ok output-inside-input ;; *) bad output-inside-input "$out" ;; esac
else bad output-inside-input "rc=$rc"; fi
out=$("$bin" corrupt --input "$work/in" --output "$work/in" 2>&1); rc=$?
[ $rc -ne 0 ] && ok output-equals-input || bad output-equals-input "rc=$rc"

# 7. Unknown corruption / severity: non-zero, the valid values listed.
out=$("$bin" corrupt --input "$work/in" --output "$work/o4" --corruptions pixelate,fogg 2>&1); rc=$?
case "$out" in *"fogg"*"pixelate"*"jpeg_compression"*) [ $rc -ne 0 ] && ok unknown-corruption || bad unknown-corruption "rc=0" ;;
  *) bad unknown-corruption "$out" ;; esac
out=$("$bin" corrupt --input "$work/in" --output "$work/o4" --severities 0-3 2>&1); rc=$?
case "$out" in *"1, 2, 3, 4, 5"*) [ $rc -ne 0 ] && ok unknown-severity || bad unknown-severity "rc=0" ;;
  *) bad unknown-severity "$out" ;; esac
[ ! -e "$work/o4" ] && ok nothing-written-on-error || bad nothing-written-on-error "o4 exists"

# 8. Missing arguments and a missing input directory.
"$bin" corrupt --output "$work/o5" >/dev/null 2>&1 && bad missing-input "exit 0" || ok missing-input
"$bin" corrupt --input "$work/nope" --output "$work/o5" >/dev/null 2>&1 && bad no-such-input "exit 0" || ok no-such-input

echo "passed $passed, failed $failed"
[ $failed -eq 0 ]
