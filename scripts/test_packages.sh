#!/usr/bin/env bash
# The Debian packages the test suite drives, installed when missing: Chromium and CJK fonts for the
# browser tests, nginx for the production smoke test (TLS proxy in front of gunicorn), openssl for
# its certificate. Installing needs root and apt-get; otherwise one line names what is missing and
# the tests that need it fail (they are never skipped).
set -uo pipefail

chromium=${CHROMIUM:-/usr/bin/chromium}  # where the browser tests look for it
missing=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
[ -x "$chromium" ] || missing+=(chromium)
installed fonts-noto-cjk || [ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
command -v openssl >/dev/null || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "== installing ${missing[*]} (Debian packages the tests use)"
  # Installing nginx must not start a web server on port 80: policy-rc.d forbids service starts
  # for the length of the install (the tests start their own nginx on a free loopback port).
  policy=/usr/sbin/policy-rc.d
  own_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  status=$?
  [ -n "$own_policy" ] && rm -f "$policy"
  [ $status -eq 0 ] && exit 0
  echo "could not install ${missing[*]}: the tests that need them will fail" >&2
else
  echo "missing Debian packages ${missing[*]} (apt-get install ${missing[*]}, as root): the tests that need them will fail" >&2
fi
exit 0
