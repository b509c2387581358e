"""Progress bars on a terminal, log lines otherwise."""

import io as std_io
from unittest import mock

from absl.testing import absltest

from ntk_tf.utils import progress


class FakeTerminal(std_io.StringIO):

  def isatty(self):
    return True


class ProgressTest(absltest.TestCase):

  def test_duration(self):
    self.assertEqual(progress.duration(42), "42s")
    self.assertEqual(progress.duration(185), "3m05s")
    self.assertEqual(progress.duration(3720), "1h02m")

  def test_terminal_bar_has_rate_and_eta(self):
    stream = FakeTerminal()
    clock = [100.0]
    with mock.patch.object(progress.time, "time", lambda: clock[0]):
      bar = progress.Progress(10, "blocks", stream=stream, redraw_seconds=0)
      clock[0] = 102.0
      bar.update(4)
      self.assertIn("[#########...............] 4/10", stream.getvalue())
      self.assertIn("2/s", stream.getvalue())
      self.assertIn("ETA 3s", stream.getvalue())  # 6 left at 2/s.
      clock[0] = 105.0
      bar.update(6)
      bar.close()
    self.assertTrue(stream.getvalue().endswith("\n"))
    self.assertIn("10/10", stream.getvalue())

  def test_resumed_work_is_not_counted_in_the_rate(self):
    clock = [0.0]
    with mock.patch.object(progress.time, "time", lambda: clock[0]):
      bar = progress.Progress(100, "steps", done=90, stream=std_io.StringIO())
      clock[0] = 5.0
      bar.update(5)
      self.assertAlmostEqual(bar.rate, 1.0)
      self.assertAlmostEqual(bar.eta(), 5.0)

  def test_not_a_terminal_logs_periodically_and_at_the_end(self):
    stream = std_io.StringIO()
    clock = [0.0]
    with mock.patch.object(progress.time, "time", lambda: clock[0]), \
        mock.patch.object(progress.logging, "info") as info:
      bar = progress.Progress(1000, "iterations", stream=stream, log_every_seconds=30)
      for _ in range(100):
        clock[0] += 1.0
        bar.update(1)
      self.assertEqual(info.call_count, 3)  # At 31, 62 and 93 s.
      bar.close()
      self.assertEqual(info.call_count, 4)
      self.assertIn("100/1000", info.call_args[0][1])
    self.assertEqual(stream.getvalue(), "")  # Nothing drawn off a terminal.


if __name__ == "__main__":
  absltest.main()
