"""A long command's progress on the terminal (seeding, importing, building summaries)."""
from __future__ import annotations

import sys
from typing import Callable

Progress = Callable[[float, str], None]  # (fraction done, what is being done)


def text_progress(stream=None, width: int = 30) -> Progress:
    """A one-line progress bar on a terminal (plain lines when not a terminal)."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    last = [-1, ""]

    def report(fraction: float, label: str) -> None:
        pct = int(fraction * 100)
        stage = label.split(" ")[0]  # a new stage is always said, whatever the per cent
        if not tty and pct // 10 == last[0] // 10 and stage == last[1] and fraction < 1:
            return
        last[0], last[1] = pct, stage
        filled = int(width * fraction)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {pct:3d}% {label}"
        stream.write(("\r" + line) if tty else (line + "\n"))
        if tty and fraction >= 1:
            stream.write("\n")
        stream.flush()

    return report
