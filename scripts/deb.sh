#!/bin/bash
# scripts/deb.sh [OUTDIR]: make deb. The Debian packages siphelper-dkms
# and siphelperctl, with the version in VERSION, from the files of this
# checkout (tracked and new, not ignored: no build products), built by
# dpkg-buildpackage in OUTDIR (default build/deb), then checked by lintian:
# any error or warning fails (overrides, each with its reason, are in
# debian/*lintian-overrides). Prints the .deb paths.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$repo/build/deb}")
ver=$(cat "$repo/VERSION")
src=$out/siphelper-$ver
rm -rf "$out"
mkdir -p "$src"
cd "$repo"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | xargs -0 cp --parents -t "$src"
else
	tar -c --exclude=./build --exclude=./.git . | tar -x -C "$src"
fi
# The changelog is made here, from VERSION: the version lives in one place.
# Its date is the last commit's, so that the same tree builds the same
# packages.
when=$(git log -1 --format=%cD 2>/dev/null || date -R)
cat >"$src/debian/changelog" <<CHANGELOG
siphelper ($ver) unstable; urgency=medium

  * Release $ver, built from the repository (make deb).

 -- siphelper developers <siphelper@example.org>  $when
CHANGELOG
cd "$src"
dpkg-buildpackage -us -uc --build=full >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed: $out/build.log" >&2
	exit 1
}
changes=$(ls "$out"/siphelper_"$ver"_*.changes)
lintian --fail-on error,warning --display-info --info "$changes" \
	>"$out/lintian.log" 2>&1 || {
	cat "$out/lintian.log" >&2
	echo "deb: lintian found errors or warnings: $out/lintian.log" >&2
	exit 1
}
ls "$out"/*.deb
