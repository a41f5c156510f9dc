#!/usr/bin/env bash
# Re-vendor axe-core (MPL-2.0, Deque Systems) from the npm registry for the accessibility test.
#
#   bash tests/e2e/vendor/update-axe.sh [VERSION]
#
# The tests inject the committed axe.min.js into each page (no CDN, no npm at test time); run this
# only to move to another version, then commit the three files it writes.
set -euo pipefail
version="${1:-4.14.1}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "axe-core@${version}" --silent >/dev/null && tar xzf "axe-core-${version}.tgz")
cp "$work/package/axe.min.js" "$here/axe.min.js"
cp "$work/package/LICENSE" "$here/axe-core-LICENSE.txt"
echo "$version" >"$here/axe-core-VERSION"
echo "update-axe.sh: axe-core $version vendored into $here"
