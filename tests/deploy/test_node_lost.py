"""A node lost with a webhook in it: nginx as docs/deploy.md (*Several app nodes*) has it passes
the request, a POST, to another node, which answers it; without ``non_idempotent`` the request
gets a 502 (for a status callback: lost for good). The lost node is a listener that reads the
request and resets the connection without a word, as a node killed mid-request does."""

import contextlib
import socket
import sqlite3
import struct
import subprocess
import sys
import threading

import pytest

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, call_fields

from .servers import ROOT, free_port, gunicorn, nginx, production_env
from .test_hung_database import signed_post

pytestmark = pytest.mark.deploy

# docs/deploy.md, *Several app nodes*.
NEXT_UPSTREAM = """
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 5s;"""
WITHOUT_NON_IDEMPOTENT = """
            proxy_next_upstream error timeout;"""


@contextlib.contextmanager
def dying_node():
    """Takes each request whole, then resets the connection. Yields (port, paths received)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    received, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, body = data.split(b"\r\n\r\n", 1)
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")),
                    0,
                )  # fmt: skip
                while len(body) < length:
                    body += connection.recv(65536)
                received.append(head.split(b" ")[1].decode())
                # Close with a reset, as the kernel does for a killed process's socket.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], received
    finally:
        stop.set()
        thread.join()
        server.close()


def _status_callback_via_proxy(tmp_path, app_port, sid, next_upstream):
    """A signed status callback through nginx whose first node is lost: the lost node first,
    the app after it (``backup``: nginx turns to it only when the first fails, so the first
    attempt is always the lost node's). (status, paths the lost node received)."""
    folder = tmp_path / "nginx"
    folder.mkdir()
    folder.chmod(0o755)  # nginx's workers (nobody) reach their temporary folders
    port = free_port()
    with dying_node() as (lost_port, received):
        server = f"""
    upstream nodes {{
        server 127.0.0.1:{lost_port} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{app_port} backup;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://nodes;
            proxy_set_header Host $http_host;
            proxy_connect_timeout 5s;
            proxy_read_timeout 15s;{next_upstream}
        }}
    }}
"""
        with nginx(folder, server, port):
            status, _body, _seconds = signed_post(
                f"http://127.0.0.1:{port}/twilio/voice/status",
                call_fields(sid, CallStatus="ringing"),
            )
    return status, received


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """gunicorn the README's way on a migrated SQLite database; yields (port, database file)."""
    database = tmp_path_factory.mktemp("db") / "db.sqlite3"
    env = production_env(
        DATABASE_URL=f"sqlite:///{database}",
        ALLOWED_HOSTS="127.0.0.1",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        SECURE_SSL_REDIRECT="False",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    with gunicorn(env, workers=1) as port:
        yield port, database


def _stored(database, call_sid) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        query = "SELECT COUNT(*) FROM telephony_webhookevent WHERE call_sid = ?"
        return connection.execute(query, (call_sid,)).fetchone()[0]


def test_a_status_callback_a_lost_node_took_is_answered_by_the_other_node(app, tmp_path):
    app_port, database = app
    sid = "CA" + "a" * 32

    status, received = _status_callback_via_proxy(tmp_path, app_port, sid, NEXT_UPSTREAM)

    assert received == ["/twilio/voice/status"]  # the lost node had it first
    assert status == 204
    assert _stored(database, sid) == 1


def test_without_non_idempotent_the_request_is_lost_with_the_node(app, tmp_path):
    app_port, database = app
    sid = "CA" + "b" * 32

    status, received = _status_callback_via_proxy(tmp_path, app_port, sid, WITHOUT_NON_IDEMPOTENT)

    assert received == ["/twilio/voice/status"]
    assert status == 502
    assert _stored(database, sid) == 0
