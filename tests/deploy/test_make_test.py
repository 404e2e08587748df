"""`make test` checks what `make lint` checks and brings the Debian packages its tests drive."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_make_test_checks_formatting_and_installs_the_test_packages():
    commands = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()

    assert any(line.endswith("ruff format --check .") for line in commands)
    packages = next(i for i, line in enumerate(commands) if "scripts/test_packages.sh" in line)
    pytest_run = next(i for i, line in enumerate(commands) if line.endswith("/pytest"))
    assert packages < pytest_run


def test_without_root_one_line_names_the_missing_packages(tmp_path):
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "CHROMIUM": str(tmp_path / "no-chromium"),
    }

    done = subprocess.run(
        [ROOT / "scripts" / "test_packages.sh"], env=env, capture_output=True, text=True
    )

    assert done.returncode == 0  # pytest still runs: the browser tests fail, never skip
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "chromium" in line
    assert "apt-get install chromium" in line
