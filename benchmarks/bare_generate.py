"""The floor for `gan-lightning generate --pretrained mnist-cgan --digits 3 7 --out x.png`: torch and
safetensors only, the same generator built from the shipped config.json, the same weights, the same
seeded noise and the same 2 x 10 grid written as a PNG. `benchmarks/startup.py` times it against the
command (docs/speed.md, start-up).

    python benchmarks/bare_generate.py --out /tmp/bare.png [--same_as /tmp/x.png]

`--same_as` checks, after writing, that the command's PNG holds the same pixels.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file

from gan_lightning.nets import LabelEncoder, build_nets

FOLDER = Path(__file__).resolve().parents[1] / "gan_lightning" / "assets" / "pretrained" / "mnist-cgan"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--same_as", help="a PNG that must hold the same pixels")
    args = parser.parse_args()

    config = json.loads((FOLDER / "config.json").read_text())  # a ConditionalGAN, projection conditioning
    label = LabelEncoder(config["num_classes"], "onehot")
    net, _ = build_nets(config, label.dim, 0, "concat")
    g = torch.nn.ModuleDict({"net": net, "label": label})
    g.load_state_dict({k: v.float() for k, v in load_file(FOLDER / "model.safetensors").items()})
    g.eval()

    labels = torch.tensor([3, 7]).repeat_interleave(10)
    z = torch.randn(len(labels), config["latent_dim"], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        images = net(z, label(labels))  # (20, 1, 28, 28) in [-1, 1]
    pixels = ((images.clamp(-1, 1) + 1) / 2 * 255).round().to(torch.uint8)[:, 0]  # (20, 28, 28)
    grid = np.full((2 * 30 + 2, 10 * 30 + 2), 128, dtype=np.uint8)  # 2 px between and around, grey 128
    for i, image in enumerate(pixels.numpy()):
        y, x = divmod(i, 10)
        grid[y * 30 + 2 : y * 30 + 30, x * 30 + 2 : x * 30 + 30] = image
    Image.fromarray(grid).save(args.out, format="PNG")
    if args.same_as:
        same = np.array_equal(np.asarray(Image.open(args.out)), np.asarray(Image.open(args.same_as)))
        print("same pixels as", args.same_as, "yes" if same else "NO")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
