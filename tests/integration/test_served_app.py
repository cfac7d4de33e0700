"""What the served app (``wsgi:app``, as gunicorn loads it) does once at start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_what_the_served_app_loaded_at_start_is_left_out_of_every_garbage_collection(
        tmp_path):
    # a full collection rescanned every module, template and mapper (about 165,000
    # objects, 70 ms) every hundred or so requests; frozen, it looks only at new ones
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
           "DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}",
           "SECRET_KEY": "test-secret"}
    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    frozen, tracked = map(int, subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60).stdout.split())
    assert frozen > 50_000 and tracked < frozen // 10
