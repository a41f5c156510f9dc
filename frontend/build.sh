#!/usr/bin/env bash
# Build TrustSupport's vendored front-end assets into static/trust/.
#
#   bash frontend/build.sh        (from anywhere)
#
# Needs node >= 20.19 and npm; fetches only from the npm registry, and only
# when frontend/node_modules is missing. The output is served by Django as
# static files: nothing is loaded from a CDN at run time.
#
# Never copies govuk-frontend's fonts (GDS Transport) or its crown/crest/logo
# images: those belong to GOV.UK services only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../static/trust"
govuk="$here/node_modules/govuk-frontend/dist/govuk"

cd "$here"

if [[ ! -d node_modules ]]; then
  # --include=dev: the tools are devDependencies, even if NODE_ENV=production.
  # --omit=optional: skips @parcel/watcher (native; only for sass --watch).
  npm ci --no-audit --no-fund --include=dev --omit=optional
fi

mkdir -p "$out"

# --quiet-deps silences deprecation warnings from govuk-frontend's own Sass;
# --silence-deprecation=import silences the one about our own @import of it
# (govuk-frontend v5 is configured through global variables, which needs
# @import; it is still supported by Dart Sass 1.x).
node_modules/.bin/sass \
  --load-path=node_modules \
  --style=compressed \
  --no-source-map \
  --quiet-deps \
  --silence-deprecation=import \
  src/trust.scss "$out/trust.css"

# Drop the sourceMappingURL comment: we don't ship the .map, and Django's
# ManifestStaticFilesStorage would fail collectstatic on a missing one.
sed -e 's|//# sourceMappingURL=[^ ]*$||' "$govuk/govuk-frontend.min.js" >"$out/govuk-frontend.min.js"
# The npm package ships no licence file of its own (package.json says "MIT");
# use one if a later version ships it, else our copy of the upstream
# repository's LICENSE.txt (kept beside this script).
license=""
for f in node_modules/govuk-frontend/LICENSE.txt node_modules/govuk-frontend/LICENSE \
  node_modules/govuk-frontend/LICENSE.md govuk-frontend-LICENSE.txt; do
  if [[ -f "$f" ]]; then
    license="$f"
    break
  fi
done
{
  echo "govuk-frontend $(node -p 'require("govuk-frontend/package.json").version')"
  echo "https://github.com/alphagov/govuk-frontend"
  echo
  cat "$license"
} >"$out/govuk-frontend-LICENSE.txt"

# The compiled CSS must not use the GDS Transport typeface.
if grep -q "GDS Transport" "$out/trust.css"; then
  echo "build.sh: trust.css mentions GDS Transport" >&2
  exit 1
fi

# Copy only the images the compiled CSS really references (normally none),
# never a crown, crest or logo.
rm -rf "$out/images"
for url in $(grep -o 'url([^)]*)' "$out/trust.css" | sed -e 's/^url(//' -e 's/)$//' -e 's/^["'\'']//' -e 's/["'\'']$//' | sort -u); do
  case "$url" in
    data:*) continue ;;
    /static/trust/images/*) ;;
    *)
      echo "build.sh: trust.css references an unexpected URL: $url" >&2
      exit 1
      ;;
  esac
  name="${url#/static/trust/images/}"
  case "$name" in
    *crown* | *crest* | *logo*)
      echo "build.sh: trust.css references a GOV.UK-only image: $name" >&2
      exit 1
      ;;
  esac
  mkdir -p "$out/images"
  cp "$govuk/assets/images/$name" "$out/images/$name"
done

echo "build.sh: wrote $(cd "$out" && pwd)"
ls -l "$out"
