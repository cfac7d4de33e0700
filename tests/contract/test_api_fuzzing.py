"""Schemathesis against the whole staff API, authenticated: every operation, valid
and invalid data, the stateful phase included. No server error, no answer that
breaks its own OpenAPI document, nothing invalid accepted. (Business rules may
refuse schema-valid data with 409 or 422, so "positive data acceptance" is off.)
A larger run: bench/schemathesis.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.contract.api_server import LOCKS_THE_CALLER_OUT, live_api

ST = Path(sys.executable).parent / "st"


def fuzz(base: str, token: str, examples: int, seed: int = 1) -> subprocess.CompletedProcess:
    args = [str(ST), "run", f"{base}/api/openapi.json", "-H", f"Authorization: Bearer {token}",
            "--checks", "all", "--exclude-checks", "positive_data_acceptance",
            "--max-examples", str(examples), "--workers", "1", "--seed", str(seed),
            "--no-color"]
    for name in LOCKS_THE_CALLER_OUT:
        args += ["--exclude-name", name]
    return subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)


def test_every_operation_survives_fuzzing_and_keeps_to_its_own_document(tmp_path):
    with live_api(tmp_path) as (base, token):
        done = fuzz(base, token, examples=5)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert "Tested: " in report and "failures" not in report.split("SUMMARY")[-1]
