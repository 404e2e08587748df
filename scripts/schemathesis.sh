#!/usr/bin/env bash
# Property-based API testing: schemathesis reads /api/schema/ from a local server (production
# settings, a throwaway SQLite database with the demo data) and checks every operation against
# it, as an analyst with an API token. Exits non-zero when it finds a failure.
#   scripts/schemathesis.sh [extra schemathesis options, e.g. --max-examples 500]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${SCHEMATHESIS_PORT:-8765}
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export DEBUG=False SECRET_KEY=schemathesis-throwaway-secret-key-0123456789abcdef
export DATABASE_URL="sqlite:///$WORK/db.sqlite3" ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=False SESSION_COOKIE_SECURE=False CSRF_COOKIE_SECURE=False
export SECURE_HSTS_SECONDS=0 TWILIO_AUTH_TOKEN=schemathesis-auth-token LOG_LEVEL=WARNING

"$BIN/python" manage.py migrate -v 0
"$BIN/python" manage.py seed_demo >/dev/null
TOKEN=$("$BIN/python" manage.py drf_create_token analyst | awk '/^Generated/ {print $3}')
# The schema offers two ways in (token and session): give valid credentials for both, so the
# authentication check can take each away and see the request refused.
SESSION=$("$BIN/python" manage.py shell -c "
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.get(username='analyst')
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)" | tail -1)

"$BIN/python" manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.2
done

"$BIN/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/api/schema/?format=json" \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Token $TOKEN" \
  --header "Cookie: sessionid=$SESSION" \
  --checks all \
  --seed 1 \
  "$@" || { status=$?; echo "--- server log"; tail -50 "$WORK/server.log"; exit $status; }
