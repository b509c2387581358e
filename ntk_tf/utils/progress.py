"""Progress of long loops: a bar with rate and ETA on a terminal, periodic log lines otherwise."""

import sys
import time
from typing import Optional, TextIO

from absl import logging


def duration(seconds: float) -> str:
  """1h02m, 3m05s, 42s."""
  seconds = max(0, int(round(seconds)))
  hours, rest = divmod(seconds, 3600)
  minutes, secs = divmod(rest, 60)
  if hours:
    return f"{hours}h{minutes:02d}m"
  if minutes:
    return f"{minutes}m{secs:02d}s"
  return f"{secs}s"


class Progress:
  """Counts `total` units of work (steps, blocks, iterations, cells).

  On a terminal (`stream.isatty()`) it redraws one line, `label [#####.....] 12/40 3.1/s ETA 9s`,
  at most every `redraw_seconds`; otherwise it logs that line every `log_every_seconds` (and at
  the end), so batch jobs keep a readable record. `done` starts the count (resumed work).
  """

  def __init__(self, total: int, label: str, *, unit: str = "", done: int = 0,
               log_every_seconds: float = 30.0, redraw_seconds: float = 0.2,
               stream: Optional[TextIO] = None):
    self.total, self.label, self.unit = int(total), label, unit
    self.count, self._start_count = int(done), int(done)
    self.stream = stream if stream is not None else sys.stderr
    self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
    self.log_every, self.redraw = log_every_seconds, redraw_seconds
    self.start = self._last = time.time()
    self.closed = False

  @property
  def rate(self) -> float:
    """Units per second since the start (resumed units excluded)."""
    elapsed = time.time() - self.start
    return (self.count - self._start_count) / elapsed if elapsed > 0 else 0.0

  def eta(self) -> Optional[float]:
    rate = self.rate
    return (self.total - self.count) / rate if rate > 0 else None

  def line(self, extra: str = "") -> str:
    eta = self.eta()
    width = 24
    filled = min(width, int(width * self.count / self.total)) if self.total else width
    bar = "#" * filled + "." * (width - filled)
    unit = f" {self.unit}" if self.unit else ""
    text = (f"{self.label} [{bar}] {self.count}/{self.total}{unit} {self.rate:.3g}/s "
            f"elapsed {duration(time.time() - self.start)}")
    if self.count < self.total:
      text += f" ETA {'?' if eta is None else duration(eta)}"
    return text + (f" {extra}" if extra else "")

  def update(self, n: int = 1, extra: str = ""):
    """Adds n finished units; shows progress when due."""
    self.count += n
    now = time.time()
    if self.tty:
      if now - self._last >= self.redraw or self.count >= self.total:
        self._last = now
        self.stream.write("\r" + self.line(extra)[:150].ljust(150))
        self.stream.flush()
    elif now - self._last >= self.log_every:
      self._last = now
      logging.info("%s", self.line(extra))

  def close(self, extra: str = ""):
    """Ends the bar (a newline on a terminal, a final log line otherwise)."""
    if self.closed:
      return
    self.closed = True
    if self.tty:
      self.stream.write("\r" + self.line(extra)[:150].ljust(150) + "\n")
      self.stream.flush()
    else:
      logging.info("%s", self.line(extra))

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()
