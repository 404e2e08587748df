"""`make run` brings up the app and the local Twilio together, and one Ctrl-C stops both."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError:
        return None


def test_make_run_serves_the_app_and_the_local_twilio_and_stops_on_one_ctrl_c(tmp_path):
    web, twilio = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEMO_PASSWORD": "pw-demo",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        ["make", "run", f"PORT={web}", f"TWILIO_PORT={twilio}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        login = numbers = None
        while time.monotonic() < deadline and not (login and numbers):
            time.sleep(1)
            assert process.poll() is None, process.stdout.read().decode()
            login = answers(f"http://127.0.0.1:{web}/accounts/login/")
            numbers = answers(f"http://127.0.0.1:{twilio}/emulator/numbers")
        assert login is not None
        assert numbers == b'{"numbers": ["+815012345678"]}'
        # The app's desk loads the local Twilio's emulated softphone.
        assert answers(f"http://127.0.0.1:{twilio}/emulator/device.js").startswith(b"/*")
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise

    time.sleep(1)
    assert answers(f"http://127.0.0.1:{web}/accounts/login/") is None
    assert answers(f"http://127.0.0.1:{twilio}/emulator/numbers") is None
