"""Which EMA of the generator is best at a given wall-clock budget: several averages of one run.

The shipped average warms up as min(decay, (1 + n) / (10 + n)) (gan_lightning/modules/ema.py), so over
a short run it averages about the last n / 13 generator steps, whatever `ema_decay` says. Other rules
average more or less; which one draws the best digits at 3 minutes is an empirical question, and
separate runs would mix its answer with the seed-to-seed spread of training itself. So this runs the
README's command once per seed (`time_to_quality.py`'s `train`, with its wall-clock snapshots) and
keeps, beside the model's own average, one more average per rule over the very same generator
trajectory; each rule's average is then scored at the same marks. The extra averages cost the run
a little time (one `_foreach_lerp_` each per generator step), the same for every rule.

    python benchmarks/ema_screen.py --data_dir DIR --configs cgan_dcgan28 --minutes 3 --seeds 0 1 2 \\
        --rules k=3 k=5 k=20 const=0.999 --score_marks 120 180

A rule is `k=K` (min(decay, (1 + n) / (K + n)); the shipped rule is k=10) or `const=D` (D from the
first step on; the first update copies the weights).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import time_to_quality as ttq  # noqa: E402

from gan_lightning.modules.ema import ExponentialMovingAverage  # noqa: E402


class RuleEMA(ExponentialMovingAverage):
    """The shipped average with another decay rule."""

    def __init__(self, module: torch.nn.Module, decay: float, rule: str) -> None:
        super().__init__(module, decay)
        kind, _, value = rule.partition("=")
        if kind not in ("k", "const") or not value:
            raise ValueError(f"rules: each must be k=K or const=D, got {rule!r}")
        self.kind, self.value = kind, float(value)

    def current_decay(self) -> float:
        if self.kind == "const":
            return self.value
        n = self.count()
        return min(self.decay, (1.0 + n) / (self.value + n))


class EMAScreen(ttq.WallClockSnapshots):
    """`WallClockSnapshots` that also keeps one generator average per rule, saved with every mark."""

    def __init__(self, folder: str, t0: float, every_s: float = 30.0, rules: str = "") -> None:
        super().__init__(folder, t0, every_s)
        self.rules = [r for r in rules.split(",") if r]
        self.averages: dict[str, RuleEMA] = {}
        self._seen = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        own = pl_module.generator_ema
        if own is None:
            raise ValueError("EMAScreen: the config has no ema_decay; there is no average to compare with")
        live = pl_module.g_modules()  # what the model's own average follows
        self.averages = {rule: RuleEMA(live, own.decay, rule) for rule in self.rules}
        self._seen = own.count()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        # Fold in once per generator step, right after the model's own average did.
        count = pl_module.generator_ema.count()
        if count > self._seen:
            for average in self.averages.values():
                average.update()
            self._seen = count
        super().on_train_batch_end(trainer, pl_module, *args)

    def _keep(self, trainer: L.Trainer, pl_module: L.LightningModule, age: float) -> None:
        super()._keep(trainer, pl_module, age)
        states = {rule: {k: v.detach().cpu() for k, v in a.state_dict().items()} for rule, a in self.averages.items()}
        torch.save(states, self.folder / f"rules_{age:08.2f}.pt")


def score(snapshots: Path, seed: int, args: argparse.Namespace) -> list[dict]:
    """Every rule (and the shipped one, "k=10 (model)") at the marks nearest --score_marks and at the end."""
    from gan_lightning.commands.evaluate import evaluate
    from gan_lightning.commands.generate import load_model

    (last,) = sorted(snapshots.parent.rglob("last.ckpt"))
    model = load_model(last)
    marks = sorted(snapshots.glob("mark_*.pt"))
    ages = [float(p.stem.split("_")[1]) for p in marks]
    wanted = {min(range(len(ages)), key=lambda i: abs(ages[i] - s)) for s in args.score_marks} | {len(marks) - 1}
    rows = []
    for i in sorted(wanted):
        kept = torch.load(marks[i], weights_only=True)
        rules = torch.load(snapshots / f"rules_{marks[i].stem.split('_')[1]}.pt", weights_only=True)
        for rule, state in [("k=10 (model)", None), *rules.items()]:
            model.load_state_dict(kept["state_dict"])
            if state is not None:
                model.generator_ema.load_state_dict(state)
            values = evaluate(model=model, n_samples=args.n_samples, data_dir=args.data_dir, seed=seed)
            rows.append({"rule": rule, "minutes": kept["age_s"] / 60, "batches": kept["batches"],
                         **{k: values[k] for k in ("fid", "class_acc") if k in values}})  # fmt: skip
            print(f"  {rule} at {kept['age_s'] / 60:.2f} min: FID {values['fid']:.2f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rules", nargs="+", required=True, help="k=K or const=D, e.g. k=5 const=0.999")
    p.add_argument("--score_marks", type=float, nargs="*", default=[120.0], help="seconds (the end is always scored)")
    own, rest = p.parse_known_args(argv)
    for rule in own.rules:
        RuleEMA(torch.nn.Linear(1, 1), 0.999, rule)  # refuses a malformed rule before any training
    args = ttq.parse_args(rest)
    args.rules, args.score_marks = own.rules, own.score_marks
    args.set = [*args.set, f"trainer.callbacks.init_args.rules={','.join(own.rules)}"]  # the callback added last
    work = Path(args.work_dir).resolve()
    out = Path(args.out)
    results = []
    for config, seed, root in ttq.run_folders(args, work):
        snapshots = ttq.train(config, seed, args, root, callback="ema_screen.EMAScreen")
        results.append({"config": config, "seed": seed, "rows": score(snapshots, seed, args)})
        out.with_suffix(".json").write_text(json.dumps(results))  # each run as it is done
    print(f"wrote {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
