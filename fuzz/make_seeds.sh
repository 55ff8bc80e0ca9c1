#!/bin/sh
# make_seeds.sh CORPUS_DIR SEED_DIR: copy the kamailio SIP messages into the
# fuzz seed directory, as stored (LF) and converted to CRLF.
set -e
src=$1
dst=$2
mkdir -p "$dst"
[ -d "$src" ] || exit 0
for f in "$src"/*.sip; do
	[ -e "$f" ] || continue
	b=$(basename "$f" .sip)
	cp "$f" "$dst/kam_$b.sip"
	sed 's/\r*$/\r/' "$f" > "$dst/kam_${b}_crlf.sip"
done
