"""Benchmarks: scripts anyone can run; they report numbers and never pass or fail.

The stand-in servers they drive (tests/telegram_stub.py, tests/slack_stub.py,
tests/redis_server.py, tests/drive.py) are plain modules in tests/, imported by name
exactly as the tests import them, so there is one copy of each.
"""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
