"""Chains of a partially centred factor that fall into the neck at ``sd -> 0`` in the warm-up.

For each seed, guImmun's default model (bernoulli, 2,159 children of 1,595 mothers partially
centred, 161 communities) runs nutpie with hierbayes's compiled log-density, 4 chains, 300
warm-up steps and 10 draws, and counts the chains whose log SD across mothers ends below -1 (the
posterior's is about 1; a trapped chain sits at -3 to -12 with a step size a tenth of the
others'). ``--unfolded`` starts the chains as before the folded start
(:mod:`hierbayes.density.start`): the SD jittered on both sides of its prior's centre and the
mothers' free values placed for the unjittered SD.

Usage::

    uv run python benchmarks/partial_start.py --seeds 1-180
    uv run python benchmarks/partial_start.py --seeds 1-180 --unfolded
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import nutpie
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))

import run  # benchmarks/run.py: the models

import hierbayes as hb
import hierbayes.density.start as start_module
from hierbayes.density.adaptation import mass_matrix_adaptation

FLOOR = -1.0  # log SD below which a chain counts as trapped


def _seeds(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-60")
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--unfolded", action="store_true", help="the start before folding")
    args = parser.parse_args()
    if args.unfolded:
        folded = start_module.Start.draw

        def unfolded(self: start_module.Start, seed: int) -> np.ndarray:
            return folded(dataclasses.replace(self, partial=()), seed)

        start_module.Start.draw = unfolded  # type: ignore[method-assign]
    spec = run.MODELS["guimmun"]
    model = hb.Model(spec["formula"], spec["data"](), family=spec["family"])
    density = model.compiled_density()
    assert density is not None
    (at,) = [b.sd.start for b in density.layout.blocks if b.block.name == "mom"]
    adaptation = mass_matrix_adaptation(model.design)
    trapped, chains, began = 0, 0, time.perf_counter()
    for seed in _seeds(args.seeds):
        result = nutpie.sample(
            density.nutpie_model,
            draws=10,
            tune=args.tune,
            chains=4,
            seed=seed,
            progress_bar=False,
            adaptation=adaptation,
            cores=2,
            return_raw_trace=True,
        )
        draws, _ = result.get_arrow_trace()
        for chain, batch in enumerate(draws):
            x = pa.array(batch.column("x__")).flatten().to_numpy(zero_copy_only=False)
            last = float(x.reshape(batch.num_rows, -1)[-1, at])
            chains += 1
            if last < FLOOR:
                trapped += 1
                print(f"seed {seed} chain {chain}: log sd|mom {last:.2f} after the warm-up")
    start = "unfolded" if args.unfolded else "folded"
    print(
        f"{start} start: {trapped} of {chains} chains with log sd|mom below {FLOOR} after "
        f"{args.tune} warm-up steps ({time.perf_counter() - began:.0f} s)"
    )


if __name__ == "__main__":
    main()
