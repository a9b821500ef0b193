"""For tests that prove a module stays plain Python: which Django modules importing it loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_modules_loaded_by(*modules: str) -> list[str]:
    """Import `modules` in a fresh interpreter (no settings, no site hooks of ours)."""
    code = (
        f"import sys, json; import {', '.join(modules)}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    return json.loads(out.stdout)
