"""Parts of a computation on several threads (:mod:`hierbayes.threads`)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

import hierbayes.threads as threads_module
from hierbayes.threads import in_threads


@pytest.mark.parametrize("threads", [1, 3])
def test_every_part_is_filled_once(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    monkeypatch.setattr(threads_module, "_THREADS", threads)
    monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 4)
    out = np.zeros(10)
    seen: list[int] = []
    names: set[str] = set()

    def fill(part: slice) -> None:
        out[part] += np.arange(10.0)[part] + 1.0
        seen.append(part.start)
        names.add(threading.current_thread().name)

    in_threads(fill, [slice(k, k + 2) for k in range(0, 10, 2)])
    assert out.tolist() == list(np.arange(10.0) + 1.0)
    assert sorted(seen) == [0, 2, 4, 6, 8]
    assert (threading.main_thread().name in names) == (threads == 1)


def test_a_failing_part_raises_and_the_parts_not_started_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threads_module, "_THREADS", 2)
    monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 2)
    ran: list[int] = []

    def fill(part: int) -> None:
        ran.append(part)
        if part == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.05)

    with pytest.raises(ValueError, match="part 0 failed"):
        in_threads(fill, list(range(40)))
    assert 0 in ran and len(ran) < 40


def test_threads_never_exceed_the_usable_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 1)
    names: set[str] = set()
    in_threads(lambda part: names.add(threading.current_thread().name), [0, 1, 2, 3])
    assert names == {threading.main_thread().name}
    monkeypatch.undo()
    assert 1 <= threads_module._usable_cpus() <= (os.cpu_count() or 1)
