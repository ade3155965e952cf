#!/usr/bin/env bash
# mypy on the package as it is installed: robots/ and sims/ stand at the repository's top
# but install as kinematics.robots and kinematics.sims (setuptools package-dir), which mypy
# cannot map; it checks a temporary copy with both folders in place. Paths in the report
# are the repository's. Exit code: mypy's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/kinematics" "$tmp/kinematics"
cp -r "$root/robots" "$tmp/kinematics/robots"
cp -r "$root/sims" "$tmp/kinematics/sims"
cd "$tmp"
"${MYPY:-mypy}" --config-file "$root/pyproject.toml" --cache-dir "$tmp/.mypy_cache" "$@" \
  | sed -e 's#^kinematics/robots/#robots/#' -e 's#^kinematics/sims/#sims/#'
