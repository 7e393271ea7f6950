"""The package is typed (``py.typed``): Debian's mypy (python3-mypy) finds no error in it, for Python 3.9.
Skipped where mypy is not installed (``.ci/run`` installs it)."""

import importlib.util
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class TypesTest(unittest.TestCase):
    @unittest.skipUnless(importlib.util.find_spec("mypy"), "mypy is not installed (apt-get install python3-mypy)")
    def test_mypy_finds_no_error(self):
        out = subprocess.run([sys.executable, "-m", "mypy", "--python-version", "3.9", "--ignore-missing-imports",
                              "--no-incremental", "--cache-dir", os.devnull, os.path.join(ROOT, "losswatch")],
                             capture_output=True, text=True, timeout=600)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_the_package_says_it_is_typed(self):
        self.assertTrue(os.path.isfile(os.path.join(ROOT, "losswatch", "py.typed")))


if __name__ == "__main__":
    unittest.main()
