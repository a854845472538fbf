"""Data-parallel training over forced CPU host devices matches one device."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from conftest import ROOT


def test_sharded_training_matches_single_device_step_for_step():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "multi_device.py"),
            "--devices",
            "8",
            "--steps",
            "25",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert len(set(report["devices"])) == 8
    assert report["layout"] == {
        "batch rows per device": 256 // 8,
        "parameters replicated": True,
    }
    single = np.array(report["single"])
    sharded = np.array(report["sharded"])
    assert single.shape == sharded.shape == (25,)
    np.testing.assert_allclose(sharded, single, rtol=1e-5)
    assert single[-1] < 0.5 * single[0]  # it trained
