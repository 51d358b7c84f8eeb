#!/usr/bin/env bash
# Distribution-quality regression gate: runs `hcsim dist` for every reference
# under results/reference/dist/ and fails if any output differs by one byte.
# Each reference file's first line is "# args: <hcsim dist arguments>".
# Usage: check-dist-regression.sh HCSIM_BINARY [--update]
set -euo pipefail
hcsim=${1:?usage: check-dist-regression.sh HCSIM_BINARY [--update]}
update=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
dir="$here/results/reference/dist"
failed=0
checked=0
for ref in "$dir"/*.csv; do
  args=$(head -n 1 "$ref" | sed -n 's/^# args: //p')
  [ -n "$args" ] || { echo "dist-regression: $ref has no '# args:' line" >&2; exit 2; }
  live=$( { echo "# args: $args"; $hcsim dist $args --format csv; } )
  if [ "$update" = "--update" ]; then
    printf '%s\n' "$live" > "$ref"
    echo "dist-regression: updated $(basename "$ref")"
    continue
  fi
  checked=$((checked + 1))
  if ! diff -u "$ref" <(printf '%s\n' "$live") > /tmp/dist-regression.diff.$$; then
    echo "dist-regression: FAILED $(basename "$ref") (hcsim dist $args)"
    cat /tmp/dist-regression.diff.$$
    failed=$((failed + 1))
  fi
  rm -f /tmp/dist-regression.diff.$$
done
[ "$update" = "--update" ] && exit 0
echo "dist-regression: $((checked - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
