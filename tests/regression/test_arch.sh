#!/usr/bin/env bash
# Export ResNet-50 with random weights and a small model without
# normalisation layers, then run test_arch on them.
# usage: test_arch.sh path/to/test_arch [arch]
set -euo pipefail
exe=$1
arch=${2:-resnet50}
root=${SA_SOURCE_ROOT:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
"$py" "$root/tools/export_model.py" "$arch" "$work/$arch.pt" --random --seed 0
"$py" - "$work/plain.pt" <<'PY'
import sys, torch
class Plain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        self.fc = torch.nn.Linear(8, 10)
    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))
torch.jit.trace(Plain(), torch.rand(1, 3, 8, 8)).save(sys.argv[1])
PY
"$exe" "$work/$arch.pt" "$work/plain.pt"
