#!/usr/bin/env bash
# Extract the King James Version text from Debian's `bible-kjv-text` package (the text, in the
# Bible Retrieval System's compressed format) with its `bible` program (package `bible-kjv`),
# one verse per line without the verse references, to crates/rigor-lab/data/kjv.txt.gz.
#
# The KJV text (1611) is in the public domain; the packages' copyright file says so (Debian
# bookworm, bible-kjv 4.38: "The copyright for the King James Version text of the Bible is
# expired"). The program (GPL-2+) is only run, not redistributed.
#
# Usage (from the repository root, on Debian/Ubuntu with apt):
#     crates/rigor-lab/scripts/extract_kjv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/data/kjv.txt.gz"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download bible-kjv-text bible-kjv
for deb in ./*.deb; do
  echo "$(sha256sum "$deb")"
  dpkg-deb -x "$deb" root
done
# -f turns pretty-printing off: one verse per line, "Ge1:1 In the beginning ...".
./root/usr/bin/bible -p root/usr/lib -f 'Gen1:1-Rev22:21' > raw.txt
# Drop the reference (book abbreviation, chapter:verse, one space); keep the verse text.
sed -E 's/^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ //' raw.txt > kjv.txt
lines=$(wc -l < kjv.txt)
[ "$lines" -eq 31102 ] || { echo "expected 31102 verses, got $lines" >&2; exit 1; }
if grep -qE '^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ ' kjv.txt; then
  echo "a verse reference survived" >&2; exit 1
fi
LC_ALL=C grep -qP '[^\x00-\x7F]' kjv.txt && echo "note: non-ASCII bytes present"
gzip -9 -n -c kjv.txt > "$out"
echo "text: $(wc -c < kjv.txt) bytes, $lines lines, sha256 $(sha256sum < kjv.txt | cut -d' ' -f1)"
echo "wrote $out: $(wc -c < "$out") bytes, sha256 $(sha256sum < "$out" | cut -d' ' -f1)"
