"""The probe library stays a plain Python library: importable and usable without Django."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_imports_without_django():
    code = (
        "import sys, monitoring.probe, monitoring.probe.engine;"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_no_module_in_it_names_django():
    for path in (ROOT / "monitoring" / "probe").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("import django", "from django")), path
