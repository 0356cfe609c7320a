"""The learning curve: what each stretch of a file cost its model, in bits per byte, from
its start to its end.

For an adaptive model this is a training curve. The model starts knowing nothing, pays
about 8 bits a byte at first, and learns as it codes. The area under the curve is the
file's payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..models._html import key_values

__all__ = ["CurveBuilder", "LearningCurve"]


@dataclass(frozen=True, eq=False)
class LearningCurve:
    """Bits per byte along a file, in *windows* of (nearly) equal length.

    ``ends[i]`` is where window i ends (in bytes of the original); ``bits_per_byte[i]``
    what its bytes cost on average; ``running[i]`` the mean from the file's start to
    ``ends[i]`` (the running loss); ``entropy`` the file's order-0 entropy, in bits per
    byte, the line an order-0 code cannot go below.
    """

    ends: NDArray[np.int64]
    bits_per_byte: NDArray[np.float64]
    running: NDArray[np.float64]
    entropy: float
    model: str

    def __repr__(self) -> str:
        return (f"<LearningCurve of {self.model}: {self.ends.size} windows over "
                f"{int(self.ends[-1]):,} bytes, {float(self.running[-1]):.3f} bits per byte in "
                f"all, H(P) = {self.entropy:.3f}>")

    def _repr_html_(self) -> str:
        """The curve's figures as Jupyter shows them (draw it with ``plot_learning_curve``)."""
        return key_values(f"the learning curve of {self.model}", [
            ("windows", f"{self.ends.size:,}"), ("bytes", f"{int(self.ends[-1]):,}"),
            ("first window", f"{float(self.bits_per_byte[0]):.3f} bits/byte"),
            ("last window", f"{float(self.bits_per_byte[-1]):.3f} bits/byte"),
            ("in all (running loss at the end)", f"{float(self.running[-1]):.3f} bits/byte"),
            ("order-0 entropy H(P)", f"{self.entropy:.3f} bits/byte")])

    def to_dict(self) -> dict[str, Any]:
        return {"ends": self.ends.tolist(), "bits_per_byte": self.bits_per_byte.tolist(),
                "running": self.running.tolist(), "entropy": self.entropy,
                "model": self.model}


class CurveBuilder:
    """Sums each window's costs as blocks bring them, in order: memory for the windows,
    not for the file's bytes."""

    def __init__(self, total: int, windows: int) -> None:
        if windows < 1:
            raise ValueError(f"a curve needs at least 1 window, got {windows}")
        windows = max(1, min(windows, total))
        # Window i ends at ends[i]; the last at the file's end.
        self._ends = (np.arange(1, windows + 1, dtype=np.int64) * total) // windows
        self._sums = np.zeros(windows, dtype=np.float64)
        self._done = 0

    def add(self, costs: NDArray[np.float64]) -> None:
        """The next bytes' costs, in bits, one per byte."""
        if not costs.size:
            return
        start, stop = self._done, self._done + costs.size
        if stop > self._ends[-1]:
            raise ValueError("the blocks hold more bytes than the curve was made for")
        # The window of each byte, found once per window boundary rather than per byte.
        first = int(np.searchsorted(self._ends, start, side="right"))
        last = int(np.searchsorted(self._ends, stop - 1, side="right"))
        # Windows hold a byte at least, so the cuts rise strictly, inside (0, costs.size).
        cuts = self._ends[first:last] - start
        self._sums[first:last + 1] += np.add.reduceat(costs, np.concatenate(([0], cuts)))
        self._done = stop

    def result(self, entropy: float, model: str) -> LearningCurve:
        sizes = np.diff(np.concatenate(([0], self._ends)))
        with np.errstate(invalid="ignore", divide="ignore"):
            per_byte = np.where(sizes > 0, self._sums / np.maximum(sizes, 1), 0.0)
            running = np.cumsum(self._sums) / np.maximum(self._ends, 1)
        return LearningCurve(self._ends.copy(), per_byte, running, entropy, model)
