#!/usr/bin/env bash
# Refresh the front-end libraries vendored under static/vendor/ from the npm registry, at the
# versions pinned in package.json. Run after changing a version there; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp package.json "$work/"
(cd "$work" && npm install --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null)
nm="$work/node_modules"

copy() {  # copy <package> <destination folder> <files relative to the package>...
  local pkg=$1 dest=static/vendor/$2
  shift 2
  rm -rf "$dest" && mkdir -p "$dest"
  for f in "$@"; do
    cp "$nm/$pkg/$f" "$dest/"
    # The packages point at source maps we do not ship; collectstatic's manifest storage would
    # fail on the dangling reference (MissingFileError), so the comment goes.
    sed -i -E -e 's@^//# sourceMappingURL=\S+$@@' -e 's@/\*# sourceMappingURL=\S+ \*/@@' "$dest/${f##*/}"
  done
  cp "$nm/$pkg/LICENSE"* "$dest/" 2>/dev/null || true
  node -e "console.log(require('$nm/$pkg/package.json').version)" > "$dest/VERSION"
}

copy bootstrap bootstrap dist/css/bootstrap.min.css dist/js/bootstrap.bundle.min.js
if [ -d "$nm/chart.js" ]; then copy chart.js chartjs dist/chart.umd.js; fi
if [ -d "$nm/@twilio/voice-sdk" ]; then copy @twilio/voice-sdk twilio-voice-sdk dist/twilio.min.js; fi
echo "vendored into static/vendor/"
