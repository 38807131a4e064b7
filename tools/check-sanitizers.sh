#!/usr/bin/env bash
# Build with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and
# run the unit suite there. Usage: tools/check-sanitizers.sh [meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false
fi
ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
meson test -C build-asan --no-rebuild --print-errorlogs --suite unit "$@"
