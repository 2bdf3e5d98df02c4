"""nutpie's raw trace to the kept draws and per-draw statistics, without the warm-up.

``nutpie.sample`` turns its whole trace, warm-up included, into an ArviZ ``DataTree`` before
returning it, filling a (chains, steps, dimensions) array for the warm-up draws that a fit
with ``save_warmup=False`` then drops: on a model of a few thousand dimensions that is the
larger part of the time between the last draw and the labelled posterior. Sampled with
``return_raw_trace=True``, the trace stays in nutpie's Arrow record batches (one per chain) and
:func:`draws_and_stats` reads only the draws after tuning: the position stored by the expand
function and the scalar statistics of each draw, the same numbers, types and missing values
(NaN for floats, None for text, 0 for integers and booleans) as nutpie's own conversion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import xarray as xr

__all__ = ["draws_and_stats"]


def draws_and_stats(raw_trace: Any, name: str) -> tuple[np.ndarray, xr.Dataset]:
    """The draws after tuning of the vector ``name`` (chains, draws, dimensions) and the scalar
    per-draw statistics (Dataset over ``chain``, ``draw``) of a raw nutpie trace.

    Chains that stopped early (nutpie was interrupted) are padded as nutpie pads them: NaN
    draws and statistics with their missing value.

    Examples
    --------
    >>> import nutpie  # doctest: +SKIP
    >>> trace = nutpie.sample(model, return_raw_trace=True)  # doctest: +SKIP
    >>> x, stats = draws_and_stats(trace, "x__")  # doctest: +SKIP
    """
    draw_batches, stat_batches = raw_trace.get_arrow_trace()
    kept: list[tuple[Any, Any]] = []
    for draws, stats in zip(draw_batches, stat_batches, strict=True):
        tuning = int(pa.array(stats.column("tuning")).to_numpy(zero_copy_only=False).sum())
        rows = stats.num_rows - tuning
        kept.append((draws.slice(tuning, rows), stats.slice(tuning, rows)))
    chains = len(kept)
    length = max((d.num_rows for d, _ in kept), default=0)
    positions: list[np.ndarray] = []
    columns: dict[str, np.ndarray] = {}
    for chain, (draws, stats) in enumerate(kept):
        column = pa.array(draws.column(name))
        values = column.flatten().to_numpy(zero_copy_only=False)
        # a chain with no draws after tuning (interrupted) has no width of its own: (0, 0)
        positions.append(values.reshape(draws.num_rows, -1) if draws.num_rows else values[:0])
        for stat in stats.column_names:
            _add_scalar(columns, stat, pa.array(stats.column(stat)), chain, chains, length)
    width = max((p.shape[1] for p in positions if p.size), default=0)
    if all(len(p) == length for p in positions):  # one copy, no NaN fill first
        x = np.stack(positions) if length else np.empty((chains, 0, width))
    else:
        x = np.full((chains, length, width), np.nan)
        for chain, values in enumerate(positions):
            if len(values):
                x[chain, : len(values)] = values
    dims = ("chain", "draw")
    frame = xr.Dataset(
        {k: (dims, v) for k, v in columns.items() if k not in ("chain", "draw")},
        coords={"chain": np.arange(chains), "draw": np.arange(length)},
    )
    return x, frame


def _add_scalar(
    columns: dict[str, np.ndarray],
    name: str,
    column: pa.Array,
    chain: int,
    chains: int,
    length: int,
) -> None:
    """Put one chain's values of a scalar statistic into ``columns[name]`` (chains, length);
    vector statistics (nutpie stores them only when asked) are left out."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return
    dtype = np.dtype(column.type.to_pandas_dtype())
    if name not in columns:
        if dtype.kind == "f":
            columns[name] = np.full((chains, length), np.nan, dtype=dtype)
        elif dtype.kind == "O":
            columns[name] = np.full((chains, length), None, dtype=dtype)
        else:
            columns[name] = np.zeros((chains, length), dtype=dtype)
    missing = column.is_null().to_numpy(zero_copy_only=False)
    values = column.to_numpy(zero_copy_only=False)
    if not missing.any():
        columns[name][chain, : len(column)] = values
    else:
        columns[name][chain, : len(column)][~missing] = values[~missing]
