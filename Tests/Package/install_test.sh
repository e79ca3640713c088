#!/usr/bin/env bash
# The clean-system install test: builds the package (scripts/package) while a minimal Debian 12 root is
# made in the background (make_root.sh: debootstrap, cached as a tarball), replays the Containerfile's
# COPY and RUN instructions in that root (so the container's install step, scripts/lib/install-deb.sh,
# is what installs the package: apt pulls the Depends from the Debian archive), then, with no Swift
# toolchain in sight, runs the image's entrypoint as its USER: --version, generate, copy, verify,
# snapshot, a runbook dry run and a real run; checks the man page, completions and documents; purges.
#
#   Tests/Package/install_test.sh [--deb PATH] [--keep]
#
#   --deb PATH  test this .deb instead of building one (its commit is then only checked for form)
#   --keep      keep the root (its path is printed) instead of deleting it
#
# Needs root (chroot, mount; re-runs itself with sudo otherwise), debootstrap, zstd and the Debian
# archive. Cache: ${SESSMIGRATE_CACHE:-~/.cache/sessmigrate}/debootstrap/bookworm-minbase-HASH.tar.zst,
# HASH of the suite, variant, package list and mirror; delete it to get a fresh root.
# SESSMIGRATE_DEBIAN_MIRROR: the mirror (default http://deb.debian.org/debian).
# Prints PASS/FAIL lines and, last, `N passed, N failed`; exit status 1 on any failure.
set -uo pipefail
start_dir=$PWD
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD

deb=
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) deb=${2:?--deb needs a path}; [[ $deb == /* ]] || deb="$start_dir/$deb"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 0 ;;
        *) echo "install_test: unknown argument $1" >&2; exit 64 ;;
    esac
done

if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && exec sudo --preserve-env=SESSMIGRATE_CACHE,SESSMIGRATE_DEBIAN_MIRROR,HOME "$0" \
        ${deb:+--deb "$deb"} $([ $keep = 1 ] && echo --keep)
    echo "FAIL install test: needs root (chroot and mount)"; echo "0 passed, 1 failed"; exit 1
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME CMD…: PASS when CMD succeeds; else FAIL with its output.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name: $(tail -n 5 <<<"$out" | tr '\n' ' ')"; fi
}
finish() {
    echo "(install test: $((SECONDS - t_start)) s)"
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
t_start=$SECONDS
phase() { printf -- '--- %s (%d s)\n' "$*" $((SECONDS - t_start)); }

# --- 1. the clean root, made in the background while the package builds -------------------------
suite=bookworm
variant=minbase
include=man-db          # for rendering the manual page; everything else comes from the package's Depends
mirror=${SESSMIGRATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${SESSMIGRATE_CACHE:-${HOME:-/root}/.cache/sessmigrate}/debootstrap
key=$(printf 'format=1 suite=%s variant=%s include=%s mirror=%s arch=amd64\n' "$suite" "$variant" "$include" "$mirror" |
    sha256sum | cut -c1-16)
tarball="$cache/$suite-$variant-$key.tar.zst"
work=$(mktemp -d /tmp/sessmigrate-pkgtest.XXXXXX)
root="$work/root"
mounts=()
root_pid=
cleanup() {
    local i m
    if [ -n "$root_pid" ]; then
        # make_root.sh leads its own process group (setsid): stop the group, debootstrap and dpkg included.
        kill -TERM -- "-$root_pid" 2>/dev/null
        for i in $(seq 1 100); do
            [ -z "$(ps -o pid= -s "$root_pid" 2>/dev/null)" ] && break   # its session (setsid)
            [ "$i" = 50 ] && kill -KILL -- "-$root_pid" 2>/dev/null
            sleep 0.1
        done
        wait "$root_pid" 2>/dev/null
    fi
    root_pid=
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
    mounts=()
    # An interrupted debootstrap may leave its own /proc or /sys mounts in the root.
    for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    if grep -q " $root/" /proc/mounts 2>/dev/null; then
        echo "install_test: something is still mounted under $root; not deleting it" >&2
    elif [ $keep = 1 ]; then
        echo "install_test: kept the root in $root"
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$cache" "$root"
# In its own session and process group (setsid), so that cleanup can stop it with all its children.
setsid "$repo/Tests/Package/make_root.sh" "$root" "$tarball" "$suite" "$variant" "$include" "$mirror" \
    >"$work/root.log" 2>&1 </dev/null &
root_pid=$!

# --- 2. the package -----------------------------------------------------------------------------
expected_version_line=
if [ -z "$deb" ]; then
    phase "scripts/package"
    mapfile -t commit_flags < <(scripts/lib/commit-flags)
    commit=unknown
    [ ${#commit_flags[@]} -eq 0 ] || commit=$(sed -n 's/^-DSESSMIGRATE_COMMIT="\(.*\)"$/\1/p' <<<"${commit_flags[1]}")
    number=$(sed -n 's/.*static let number = "\(.*\)".*/\1/p' Sources/SessMigrate/Version.swift)
    expected_version_line="$number (commit $commit)"
    t0=$SECONDS
    if scripts/package </dev/null; then
        pass "scripts/package built the package ($((SECONDS - t0)) s)"
    else
        fail "scripts/package (exit $?)"; finish
    fi
    deb="dist/sessmigrate_${number}_amd64.deb"
fi
[ -f "$deb" ] || { fail "no package at $deb"; finish; }
deb=$(realpath "$deb")
version=$(dpkg-deb -f "$deb" Version)
depends=$(dpkg-deb -f "$deb" Depends)
echo "package: $deb, version $version, Depends: $depends"
check "Depends names the C libraries (libhiredis0.14, libmariadb3, libsqlite3-0, libssl3 for TLS and SHA-256, libc6)" \
    bash -c 'for p in libhiredis0.14 libmariadb3 libsqlite3-0 libssl3 libc6; do grep -Eq "(^|, )$p( |,|$)" <<<"$1" || { echo "no $p in: $1"; exit 1; }; done' _ "$depends"
check "Depends names nothing from a Swift toolchain" bash -c '! grep -i swift <<<"$1"' _ "$depends"

phase "Debian $suite root"
wait "$root_pid"
root_rc=$?
# A signal can end `wait` early (status 128+N) while make_root.sh still runs: then stop here; cleanup
# stops it.
kill -0 "$root_pid" 2>/dev/null && { echo "install_test: interrupted"; exit 143; }
root_pid=
verdict=$(tail -n 1 "$work/root.log")
head -n -1 "$work/root.log"
if [ $root_rc = 0 ] && [[ $verdict == "PASS "* ]]; then pass "${verdict#PASS }"; else fail "${verdict#FAIL }"; finish; fi
# The root as debian:12-slim has it: the main, updates and security suites.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc" && mounts+=("$root/proc") || { fail "mount /proc in the root"; finish; }

base_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
# inroot CMD…: as root in the root, with a clean environment.
inroot() { chroot "$root" "${base_env[@]}" HOME=/root "$@"; }

# --- 3. the Containerfile, replayed --------------------------------------------------------------
phase "replaying the Containerfile"
. "$repo/Tests/Package/containerfile.sh"
# The build context: the checkout, except that dist/ holds exactly the package under test.
context="$work/context"
mkdir -p "$context/dist"
for entry in "$repo"/* "$repo"/.[!.]*; do
    case ${entry##*/} in dist | .git | .build*) continue ;; esac
    [ -e "$entry" ] && ln -s "$entry" "$context/${entry##*/}"
done
cp "$deb" "$context/dist/sessmigrate_${version}_amd64.deb"
t0=$SECONDS
if replay_containerfile "$context/Containerfile" "$context" "$root"; then
    pass "Containerfile replayed: install-deb.sh installed the package with apt ($((SECONDS - t0)) s)"
else
    fail "Containerfile replay (output above)"; finish
fi
# img ARGS…: what `docker run IMAGE ARGS…` runs: the entrypoint, as the image's user, in its workdir.
img() {
    chroot --userspec="$image_user" "$root" "${base_env[@]}" HOME=/tmp "${image_env[@]}" \
        sh -c 'cd "$1" && shift && exec "$@"' _ "$image_workdir" "${image_entrypoint[@]}" "$@"
}

# --- 4. what is installed ------------------------------------------------------------------------
phase "checks"
status=$(inroot dpkg-query -W -f='${db:Status-Status} ${Version}' sessmigrate 2>&1)
[ "$status" = "installed $version" ] && pass "dpkg: sessmigrate $version installed" || fail "dpkg status: $status"
check "the libraries of Depends installed by apt" inroot dpkg-query -W libhiredis0.14 libmariadb3 libsqlite3-0 libssl3
check "no Swift toolchain in the root" bash -c '! chroot "$1" sh -c "command -v swift swiftc" && [ ! -e "$1/opt/swift" ]' _ "$root"
check "every library of /usr/bin/sessmigrate resolves in the root" \
    bash -c 'out=$(chroot "$1" ldd /usr/bin/sessmigrate) && ! grep -E "not found|swift" <<<"$out"' _ "$root"

out=$(img --version 2>&1)
if [ -n "$expected_version_line" ]; then
    [ "$out" = "$expected_version_line" ] && pass "sessmigrate --version: $out" ||
        fail "sessmigrate --version: '$out', expected '$expected_version_line'"
else
    [[ $out =~ ^${version//./\\.}\ \(commit\ [0-9a-f]{12}(-dirty)?\)$ ]] && pass "sessmigrate --version: $out" ||
        fail "sessmigrate --version: '$out'"
fi

check "manual page /usr/share/man/man1/sessmigrate.1.gz" test -s "$root/usr/share/man/man1/sessmigrate.1.gz"
man_out=$(inroot env MANWIDTH=100 man --warnings -P cat sessmigrate 2>"$work/man.err")
man_err=$(grep -v '^$' "$work/man.err")
missing=()
for sub in inspect copy diff verify snapshot restore generate run resume status log continue unlock; do
    grep -Eq "^ +$sub( |$)" <<<"$man_out" || missing+=("$sub")
done
if [ ${#missing[@]} = 0 ] && [ -z "$man_err" ]; then
    pass "man sessmigrate renders ($(wc -l <<<"$man_out") lines, a section per subcommand, no groff warnings)"
else
    fail "man sessmigrate: no section for: ${missing[*]}; warnings: $(head -c 300 <<<"$man_err")"
fi
check "bash completion completes subcommands (sessmigrate co<TAB>)" inroot bash -c '
    . /usr/share/bash-completion/completions/sessmigrate
    COMP_WORDS=(sessmigrate co); COMP_CWORD=1; COMP_LINE="sessmigrate co"; COMP_POINT=${#COMP_LINE}
    "$(complete -p sessmigrate | sed "s/.* -F \([^ ]*\) .*/\1/")" sessmigrate co sessmigrate
    printf "%s\n" "${COMPREPLY[@]}" | grep -qx copy && printf "%s\n" "${COMPREPLY[@]}" | grep -qx continue'
check "zsh completion /usr/share/zsh/vendor-completions/_sessmigrate" \
    grep -q '^#compdef sessmigrate' "$root/usr/share/zsh/vendor-completions/_sessmigrate"
check "fish completion /usr/share/fish/vendor_completions.d/sessmigrate.fish" \
    grep -q "^complete -c 'sessmigrate'" "$root/usr/share/fish/vendor_completions.d/sessmigrate.fish"
check "runbooks in /usr/share/sessmigrate/runbooks" bash -c 'cd "$1" && for f in "$2"/runbooks/*.yaml "$2"/runbooks/README.md; do
    cmp "$f" "usr/share/sessmigrate/runbooks/$(basename "$f")" || exit 1; done' _ "$root" "$repo"
check "docs, copyright and changelog in /usr/share/doc/sessmigrate" bash -c 'd=$1/usr/share/doc/sessmigrate
    for f in copyright changelog.gz; do [ -s "$d/$f" ] || { echo "missing $f"; exit 1; }; done
    cd "$2" && for f in README.md REDIS_ROLLBACK_GUIDE.md docs/*.md; do
        if [ -f "$d/$f.gz" ]; then zcat "$d/$f.gz" | cmp - "$f" || exit 1
        else cmp "$d/$f" "$f" || exit 1; fi
    done' _ "$root" "$repo"

# --- 5. it works: as the image's user, through its entrypoint ------------------------------------
run_books=/usr/share/sessmigrate/runbooks
check "generate sqlite:////tmp/a.db --sessions 20 --events 5" img generate sqlite:////tmp/a.db --sessions 20 --events 5
check "copy sqlite:////tmp/a.db sqlite:////tmp/b.db" img copy sqlite:////tmp/a.db sqlite:////tmp/b.db
out=$(img inspect sqlite:////tmp/b.db --format json 2>&1)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if (d["sessions"], d["events"]) == (20, 100) else 1)' "$out" \
    2>/dev/null && pass "inspect of the copy: 20 sessions, 100 events" || fail "inspect of the copy: $out"
out=$(img verify sqlite:////tmp/a.db sqlite:////tmp/b.db 2>&1) && grep -q IDENTICAL <<<"$out" &&
    pass "verify a.db b.db: IDENTICAL" || fail "verify a.db b.db: $out"
check "snapshot sqlite:////tmp/a.db /tmp/snap.db" img snapshot sqlite:////tmp/a.db /tmp/snap.db
check "generate an empty target sqlite:////tmp/c.db (--sessions 0)" img generate sqlite:////tmp/c.db --sessions 0 --events 0
c_before=$(sha256sum "$root/tmp/c.db" 2>&1)
rb=(run "$run_books/restore-snapshot.yaml" --journal /tmp/j.db --var snapshot=/tmp/snap.db --var target=sqlite:////tmp/c.db)
out=$(img "${rb[@]}" --dry-run 2>&1)
if [ $? = 0 ] && [ ! -e "$root/tmp/j.db" ] && [ "$(sha256sum "$root/tmp/c.db" 2>&1)" = "$c_before" ]; then
    pass "run $run_books/restore-snapshot.yaml --dry-run (no journal, target unchanged)"
else
    fail "restore-snapshot dry run: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
fi
check "run $run_books/restore-snapshot.yaml into sqlite:////tmp/c.db" img "${rb[@]}"
out=$(img verify sqlite:////tmp/a.db sqlite:////tmp/c.db 2>&1) && grep -q IDENTICAL <<<"$out" &&
    pass "verify a.db c.db (restored by the runbook): IDENTICAL" || fail "verify a.db c.db: $out"
out=$(img log --journal /tmp/j.db --format jsonl 2>&1)
line=$(img --version 2>&1)
grep -qF "\"$line\"" <<<"$out" && pass "the journal records the tool version '$line'" ||
    fail "journal tool_version is not '$line': $(head -c 300 <<<"$out")"

# --- 6. removal ----------------------------------------------------------------------------------
check "apt-get purge sessmigrate" inroot env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sessmigrate
check "purge leaves no sessmigrate files" bash -c 'for p in usr/bin/sessmigrate usr/share/sessmigrate usr/share/doc/sessmigrate \
    usr/share/man/man1/sessmigrate.1.gz usr/share/bash-completion/completions/sessmigrate; do
    [ ! -e "$1/$p" ] || { echo "left $p"; exit 1; }; done' _ "$root"

cleanup
trap - EXIT
finish
