"""Shared test setup: hypothesis profiles and the repository paths tests use.

Profiles: `ci` (the default; modest example counts so the suite stays quick) and
`long` (`pytest --hypothesis-profile=long`) for fuzzing runs of many thousands.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=_SLOW_OK
)
settings.load_profile("ci")
