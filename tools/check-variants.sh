#!/usr/bin/env bash
# Build the corruption kernels with only their narrower x86-64 variants
# (-Dcpu_variants=avx2 in build-avx2/, =baseline in build-baseline/) and run
# their unit tests there: on a machine with AVX-512 the default build never
# runs the code that AVX2-only and older processors pick. Every variant must
# give the same bytes, which the tests check against fixed values.
# Usage: tools/check-variants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for v in avx2 baseline; do
  dir=build-$v
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dcpu_variants=$v -Dbenchmarks=false >/dev/null
  fi
  ninja -C "$dir" tests/test_corruptions tests/test_image
  echo "== cpu_variants=$v"
  OMP_WAIT_POLICY=PASSIVE "$dir/tests/test_corruptions"
  OMP_WAIT_POLICY=PASSIVE "$dir/tests/test_image"
done
