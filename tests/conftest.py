import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import flags  # pylint: disable=g-import-not-at-top

# absltest helpers (create_tempdir, ...) read flags; pytest does not parse them.
flags.FLAGS.mark_as_parsed()
