#!/usr/bin/env bash
# Set up a Debian (bookworm or later) machine for selfadapt and build it.
# Idempotent: installs only missing packages, configures build/ once, then
# rebuilds what changed. Usage: tools/bootstrap.sh [extra meson options]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential meson ninja-build pkg-config   # toolchain
  libtorch-dev                                   # libtorch 1.13 (CPU), the shim's backend
  libyaml-dev zlib1g-dev libjpeg-dev libpng-dev  # config, IDX, image codecs
  libcmocka-dev                                  # unit tests
  dataset-fashion-mnist                          # demo and regression data
  python3-torch python3-torchvision              # tools/ (training, export, reference checks)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f build/build.ninja ]; then
  meson setup build "$@"
elif [ $# -gt 0 ]; then
  meson configure build "$@"
fi
ninja -C build
