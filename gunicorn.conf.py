"""gunicorn settings for Tsunagu; gunicorn reads this file when started from the project's folder
(`gunicorn config.wsgi`). Every value can be overridden on the command line. See docs/deploy.md."""

import multiprocessing
import os

import environ

env = environ.Env()
environ.Env.read_env(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"))

bind = env.str("GUNICORN_BIND", default="127.0.0.1:8000")
# Synchronous workers: a request that hangs (a database that stopped answering) ties up only its
# own worker, and gunicorn kills that worker after `timeout` seconds.
workers = env.int("WEB_CONCURRENCY", default=multiprocessing.cpu_count() * 2 + 1)
# Twilio gives up on a webhook after 15 seconds and then requests the fallback URL: a stuck worker
# is replaced before that, and the fallback (which needs no database) finds a free worker.
timeout = env.int("GUNICORN_TIMEOUT", default=10)
graceful_timeout = 10
# The app is imported once, before the workers fork: a worker that replaces a killed one serves
# at once, and a broken configuration stops gunicorn at start instead of in every worker.
preload_app = True
keepalive = 5
# A worker is replaced after this many requests (with jitter), so a slow leak cannot grow. Not
# much more often: a replaced worker answers its first requests late (a new database connection,
# the configuration read again), and at a few hundred requests a second 2,000 meant a
# replacement every few seconds and a p99 ten times higher (docs/benchmarks.md).
max_requests = 20000
max_requests_jitter = 2000

# gunicornc's control socket is off unless asked for: its default path is shared by every gunicorn
# of the same user, so two instances on one machine would take each other's.
control_socket = env.str("GUNICORN_CONTROL_SOCKET", default="")
control_socket_disable = not control_socket

# X-Forwarded-Proto decides whether gunicorn marks a request HTTPS (wsgi.url_scheme). Honour it
# only when the app trusts its proxy (TRUSTED_PROXY=True), and only from the proxy's addresses;
# otherwise nobody, not even a client on the same machine or a UNIX socket, can claim HTTPS.
if env.bool("TRUSTED_PROXY", default=False):
    forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
else:
    forwarded_allow_ips = ""
    secure_scheme_headers = {}
