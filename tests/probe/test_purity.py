"""The probe library stays a plain Python library: importable and usable without Django."""

from __future__ import annotations

from tests.purity import ROOT, django_modules_loaded_by


def test_it_imports_without_django():
    assert django_modules_loaded_by("monitoring.probe", "monitoring.probe.engine") == []


def test_no_module_in_it_names_django():
    for path in (ROOT / "monitoring" / "probe").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("import django", "from django")), path
