#!/usr/bin/env bash
# ImageNet-scale runs end to end on small trees written here, with a real
# architecture at random weights: an ImageNet-C tree made by `selfadapt
# corrupt`, ImageNet-R (masked logits), ImageNet-D (mapped argmax), a clean
# folder with on-the-fly corruption and a subset list, `selfadapt report`,
# and bad trees rejected before any work.
# usage: test_imagenet.sh path/to/selfadapt
set -uo pipefail
bin=$1
root=${SA_SOURCE_ROOT:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

"$py" "$root/tools/export_model.py" resnet18 "$work/r18.pt" --random --seed 0 >/dev/null || exit 1

# Trees: ImageNet-R wnids (also ImageNet classes), DomainNet domains.
"$py" - "$work" "$root/src/data/classes" <<'PY' || exit 1
import os, sys, random
from PIL import Image
work, classes = sys.argv[1], sys.argv[2]
rng = random.Random(0)
wnids = [l.strip() for l in open(os.path.join(classes, "imagenet_r_wnids.txt")) if l.strip()][:3]
def write(path, w, h):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = Image.new("RGB", (w, h))
    px = im.load()
    a, b = rng.randrange(1, 9), rng.randrange(1, 9)
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * a) % 256, (y * b) % 256, ((x + y) * 3) % 256)
    im.save(path, quality=90)
sizes = [(300, 400), (256, 256), (500, 333), (224, 224)]
for c in wnids:
    for k, (w, h) in enumerate(sizes):
        write(f"{work}/val/{c}/img{k}.JPEG", w, h)
dn = [l.strip() for l in open(os.path.join(classes, "imagenet_d_classes.txt")) if l.strip()][:3]
for dom in ("clipart", "sketch"):
    for c in dn:
        for k in range(2):
            write(f"{work}/imagenet-d/{dom}/{c}/{dom}_{k}.jpg", 240, 260)
with open(f"{work}/subset.txt", "w") as f:
    for c in wnids:
        f.write(f"{c}/img0.JPEG\n{c}/img2.JPEG\n")
PY

"$bin" corrupt --input "$work/val" --output "$work/imc" --corruptions gaussian_noise,contrast \
  --severities 1,3 --seed 0 >/dev/null 2>&1 && [ -d "$work/imc/contrast/3" ] && ok corrupt-tree || bad corrupt-tree

config() { # NAME DATA-SECTION
  cat > "$work/$1.yaml" <<YAML
run: {name: $1, output: $work/results, seed: 0, threads: 2}
model: {path: $work/r18.pt, num_classes: 1000}
data: $2
shift: {corruptions: [gaussian_noise, contrast], severities: [1, 3]}
methods: [source, bn, {name: rpl, optimizer: {lr: 0.001}}]
YAML
}

config imc "{source: imagenet_c, dir: $work/imc, classes: imagenet, clean_dir: $work/val, batch_size: 4}"
if "$bin" run --quiet "$work/imc.yaml" >"$work/imc.out" 2>&1 &&
   [ -f "$work/results/imc/cells/imagenet-c/contrast/3.json" ] &&
   [ -f "$work/results/imc/cells/imagenet-c/clean/0.json" ] &&
   grep -q '"online_images": 12' "$work/results/imc/cells/imagenet-c/gaussian_noise/1.json" &&
   grep -q '^| contrast/3 |' "$work/results/imc/summary.md"; then
  ok imagenet-c-run
else bad imagenet-c-run; cat "$work/imc.out"; fi

config inr "{source: folder, dir: $work/val, classes: imagenet-r, batch_size: 6}"
sed -i 's/shift: {.*}/shift: {clean: true}/' "$work/inr.yaml"
if "$bin" run --quiet "$work/inr.yaml" >"$work/inr.out" 2>&1 &&
   grep -q '"split": "imagenet-r"' "$work/results/inr/cells/imagenet-r/clean/0.json"; then
  ok imagenet-r-run
else bad imagenet-r-run; cat "$work/inr.out"; fi

config ind "{source: folder, dir: $work/imagenet-d, classes: imagenet-d, batch_size: 6}"
if "$bin" run --quiet "$work/ind.yaml" >"$work/ind.out" 2>&1 &&
   [ -f "$work/results/ind/cells/imagenet-d/clipart/0.json" ] &&
   [ -f "$work/results/ind/cells/imagenet-d/sketch/0.json" ]; then
  ok imagenet-d-run
else bad imagenet-d-run; cat "$work/ind.out"; fi

config sub "{source: folder, dir: $work/val, classes: imagenet, subset: $work/subset.txt, batch_size: 4}"
if "$bin" run --quiet "$work/sub.yaml" >"$work/sub.out" 2>&1 &&
   grep -q '"online_images": 6' "$work/results/sub/cells/imagenet/contrast/3.json"; then
  ok subset-on-the-fly
else bad subset-on-the-fly; cat "$work/sub.out"; fi

if "$bin" report "$work/results/imc" "$work/results/inr" "$work/results/ind" --out "$work/board" \
     >"$work/report.out" 2>&1 && grep -q "IN-R" "$work/report.out" && [ -f "$work/board/errors.svg" ]; then
  ok report
else bad report; cat "$work/report.out"; fi

# The leaderboard configurations run as shipped, pointed at the small trees.
for cfg in resnet50_imagenet_c resnet50_imagenet_r resnet50_imagenet_d; do
  case $cfg in
    *_c) dir=$work/imc; extra="--set shift.corruptions=[gaussian_noise,contrast] --set shift.severities=[1,3] --set data.clean_dir=$work/val" ;;
    *_r) dir=$work/val; extra="" ;;
    *_d) dir=$work/imagenet-d; extra="" ;;
  esac
  # shellcheck disable=SC2086
  if "$bin" run --quiet "$root/configs/paper/$cfg.yaml" --set model.path="$work/r18.pt" \
       --set data.dir="$dir" --set run.output="$work/paper" --set schedule.epochs=1 \
       --set data.batch_size=6 $extra >"$work/$cfg.out" 2>&1; then ok "paper-$cfg"
  else bad "paper-$cfg"; tail -3 "$work/$cfg.out"; fi
done

# Bad trees: a clear error naming the path, and nothing written.
expect_error() { # NAME DATA-SECTION EXPECTED
  config "$1" "$2"
  out=$("$bin" run --quiet "$work/$1.yaml" 2>&1 >/dev/null)
  if [ $? -ne 0 ] && [[ "$out" == *"$3"* ]] && [ ! -e "$work/results/$1" ]; then ok "$1"
  else bad "$1: $out"; fi
}
expect_error missing-split "{source: imagenet_c, dir: $work/nowhere, classes: imagenet}" "nowhere"
mkdir -p "$work/odd/n99999999" && cp "$(ls -d "$work"/val/*/img0.JPEG | head -1)" "$work/odd/n99999999/"
expect_error unknown-class "{source: folder, dir: $work/odd, classes: imagenet}" "n99999999"
mkdir -p "$work/empty/n01443537"
expect_error empty-class "{source: folder, dir: $work/empty}" "n01443537"
expect_error wrong-split-name "{source: folder, dir: $work/val, classes: imagenet-z}" "imagenet-z"

echo "imagenet: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
