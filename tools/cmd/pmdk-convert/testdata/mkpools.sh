#!/bin/bash
# mkpools.sh: makes pmdk-convert's test pools with old PMDK releases.
#
# For each release below: the release's src/ is taken from a PMDK git
# repository (PMDK_REPO, default: a clone of github.com/pmem/pmdk made in the
# temp dir), libpmem and libpmemobj are built, mkpool.c is linked with them
# and run: a pool closed cleanly (clean), one cut off in a transaction (cut),
# and that one reopened by the same release, which recovers it (recovered).
# The pools are written as OUT/<release>-<kind>.obj.xz (OUT: this directory).
# Nothing but the pools is kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here}
releases=${RELEASES:-"1.0 1.1 1.2 1.3 1.4 1.5 1.6"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

repo=${PMDK_REPO:-}
if [ -z "$repo" ]; then
	git clone -q --bare https://github.com/pmem/pmdk "$tmp/pmdk.git"
	repo=$tmp/pmdk.git
fi

# Old releases predate gcc 10's -fno-common default and newer warnings.
cflags="-fcommon -Wno-error -w -O1"

for rel in $releases; do
	src=$tmp/src-$rel
	mkdir -p "$src"
	git --git-dir="$repo" archive "$rel" src utils | tar -x -C "$src"
	# The releases' Makefiles check the source's version with git; give it.
	echo "$rel" > "$src/.version"
	# The libraries' own Makefiles build the non-debug variant only.
	{ make -s -C "$src/src/libpmem" EXTRA_CFLAGS="$cflags" NDCTL_ENABLE=n &&
		make -s -C "$src/src/libpmemobj" EXTRA_CFLAGS="$cflags" NDCTL_ENABLE=n
	} >"$tmp/build-$rel.log" 2>&1 || {
		echo "building $rel failed:" >&2
		tail -30 "$tmp/build-$rel.log" >&2
		exit 1
	}
	lib=$src/src/nondebug
	gcc -o "$tmp/mkpool-$rel" -I"$src/src/include" "$here/mkpool.c" \
		"$lib/libpmemobj.a" "$lib/libpmem.a" -pthread -ldl
	# From 1.3 the allocation classes of mkpool.c's sizes need more than
	# the minimum pool (8 MiB) holds.
	mib=8
	case $rel in 1.[0-2]) ;; *) mib=16 ;; esac
	for kind in clean cut; do
		rm -f "$tmp/$rel-$kind.obj"
		"$tmp/mkpool-$rel" "$tmp/$rel-$kind.obj" "$kind" $mib
	done
	cp --sparse=always "$tmp/$rel-cut.obj" "$tmp/$rel-recovered.obj"
	"$tmp/mkpool-$rel" "$tmp/$rel-recovered.obj" reopen
	for kind in clean cut recovered; do
		xz -9 -c "$tmp/$rel-$kind.obj" > "$out/$rel-$kind.obj.xz"
	done
	echo "$rel: done"
done
