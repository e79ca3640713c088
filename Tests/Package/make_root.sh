#!/usr/bin/env bash
# Makes the minimal Debian root of the install test in ROOT (an empty directory): unpacks TARBALL if it
# exists, else runs debootstrap and caches the result as TARBALL. The last line of the output is the
# verdict, `PASS …` or `FAIL …`. Run by Tests/Package/install_test.sh in the background (setsid).
#
#   make_root.sh ROOT TARBALL SUITE VARIANT INCLUDE MIRROR
set -uo pipefail
root=$1 tarball=$2 suite=$3 variant=$4 include=$5 mirror=$6
t0=$SECONDS
exec 8>"$(dirname "$tarball")/.lock"
flock 8   # one debootstrap at a time per cache
if [ -f "$tarball" ]; then
    if zstd -dc "$tarball" | tar --numeric-owner -C "$root" -xf -; then
        echo "PASS Debian $suite root from the cache ($(basename "$tarball"), $((SECONDS - t0)) s)"
        exit 0
    fi
    echo "FAIL unpacking $tarball (delete it to rebuild)"
    exit 1
fi
echo "no cached root at $tarball: debootstrap --variant=$variant --include=$include $suite $mirror"
log="$root.debootstrap.log"
if ! debootstrap --variant="$variant" --include="$include" "$suite" "$root" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log"
    echo "FAIL debootstrap $suite (log above)"
    exit 1
fi
if tar --numeric-owner -C "$root" -cf - . | zstd -q -T0 -3 -o "$tarball.partial"; then
    mv -f "$tarball.partial" "$tarball"
else
    rm -f "$tarball.partial"
    echo "warning: could not cache the root in $tarball"
fi
echo "PASS Debian $suite root made by debootstrap and cached ($((SECONDS - t0)) s)"
