"""Real servers for the production-path tests: gunicorn started the README's way (from the
project's folder, so it reads gunicorn.conf.py) and a database that accepts and never answers."""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.nginx import nginx_conf

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def production_env(**overrides) -> dict:
    """The environment of a production process: DEBUG off, a secret key, nothing from the
    test settings. Values of `overrides` win."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "SECURE_", "DATABASE_URL"))
    }
    env.update(
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        LOG_LEVEL="WARNING",
        TRUSTED_PROXY="False",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 2):
    """`gunicorn config.wsgi` in the project's folder on a free loopback port; yields the port.
    Its log goes to a temporary file, printed when the test fails (pytest shows stdout)."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**env, "WEB_CONCURRENCY": str(workers)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield port
        finally:
            process.send_signal(signal.SIGINT)  # quick shutdown
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            print(log.read()[-5000:])


@contextlib.contextmanager
def silent_listener():
    """A TCP server that accepts every connection and never says a word (a hung database).
    Yields its port."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def nginx_binary():
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    assert found, "nginx is missing: apt-get install nginx (make test installs it as root)"
    return found


@contextlib.contextmanager
def nginx(folder: Path, server: str, port: int):
    """nginx with ``server`` (its server and upstream blocks) in ``folder``, serving once ``port``
    listens; stopped at the end, the tail of its error log printed (pytest shows stdout when a
    test fails)."""
    conf = folder / "nginx.conf"
    conf.write_text(nginx_conf(folder, server, connections=64))
    process = subprocess.Popen(
        [nginx_binary(), "-p", folder, "-e", folder / "error.log", "-c", conf,
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=15)
        print((folder / "error.log").read_text()[-3000:])
