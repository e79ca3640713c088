#!/bin/sh
# Installs the sessmigrate package and the Debian 12 packages it depends on, with apt.
#
#   install-deb.sh /path/to/sessmigrate_VERSION_amd64.deb
#
# The one install procedure: the Containerfile's RUN runs this file in debian:12-slim, and the
# clean-root test (Tests/Package/install_test.sh) runs the same RUN inside a debootstrapped Debian 12
# root. Needs root and the Debian archive (apt's sources of the system it runs in). Leaves no apt lists
# or downloaded .debs behind. POSIX sh: debian:12-slim has no bash requirement.
set -eu

if [ $# -ne 1 ]; then
    echo "install-deb.sh: expected exactly one .deb, got $# argument(s): $*" >&2
    exit 64
fi
deb=$1
case $deb in
    *.deb) ;;
    *) echo "install-deb.sh: $deb is not a .deb file" >&2; exit 64 ;;
esac
[ -f "$deb" ] || { echo "install-deb.sh: $deb: no such file" >&2; exit 66; }
case $deb in /*) ;; *) deb=./$deb ;; esac   # apt takes a local file only as a path

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends: the package needs only its Depends (the C libraries it links).
apt-get install -y -q --no-install-recommends "$deb"
apt-get clean
rm -rf /var/lib/apt/lists/*

# The installed binary must run here, on this system's libraries alone.
sessmigrate --version
