"""Tests for the import_partners, export_partners and seed_demo management commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from partners.models import Membership, Organization, Partnership

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data"


def test_it_imports_a_file() -> None:
    out = io.StringIO()
    call_command("import_partners", str(DATA / "partners-good.csv"), stdout=out)
    assert "7 created" in out.getvalue()
    assert Organization.objects.count() == 7


def test_it_checks_only_with_dry_run() -> None:
    out = io.StringIO()
    call_command("import_partners", str(DATA / "partners-good.csv"), "--dry-run", stdout=out)
    assert out.getvalue().startswith("dry run")
    assert not Organization.objects.exists()


def test_it_fails_with_line_numbered_errors_on_stderr() -> None:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_partners", str(DATA / "partners-bad.csv"), stderr=err)
    assert "partners-bad.csv:3: kind 'reinsurer'" in err.getvalue()
    assert not Organization.objects.exists()


def test_it_exits_non_zero_from_the_shell(tmp_path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent.parent
    env = {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PATH": ""}
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=root)
    bad = subprocess.run(
        [*manage, "import_partners", str(DATA / "partners-bad.csv")],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "partners-bad.csv:5: domain 'https://rideaubrokers.test'" in bad.stderr
    good = subprocess.run(
        [*manage, "import_partners", str(DATA / "partners-good.csv")], env=env, cwd=root
    )
    assert good.returncode == 0


def test_it_reports_a_missing_file(tmp_path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_partners", str(tmp_path / "missing.csv"))


def test_it_exports_to_stdout_and_to_a_file(tmp_path) -> None:
    call_command("import_partners", str(DATA / "partners-good.csv"), stdout=io.StringIO())
    out = io.StringIO()
    call_command("export_partners", stdout=out, stderr=io.StringIO())
    path = tmp_path / "export.csv"
    call_command("export_partners", "--output", str(path), stderr=io.StringIO())
    assert path.read_bytes().decode() == out.getvalue()
    assert out.getvalue().count("\n") == 8  # header + 7 organizations


def test_it_loads_the_demo_once(settings, tmp_path) -> None:
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", "--first-run", stdout=out)
    assert "DEMO DATA loaded: 12" in out.getvalue()
    assert "staff@demo.test" in out.getvalue()
    assert Organization.objects.count() == 12
    assert Partnership.objects.count() >= 12
    assert Membership.objects.filter(role="admin").count() == 1
    assert (tmp_path / "demo-logins.txt").stat().st_mode & 0o077 == 0
    again = io.StringIO()
    call_command("seed_demo", "--first-run", stdout=again)
    assert "already loaded" in again.getvalue()
    assert Organization.objects.count() == 12


def test_it_refuses_to_seed_demo_users_in_production(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")
