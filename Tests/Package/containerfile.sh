# Replays a Containerfile in a Debian root without a container engine, for Tests/Package/install_test.sh.
# Sourced (bash). Only what the sessmigrate Containerfile needs is understood, and anything else is
# refused, so a change to the recipe cannot slip past the test:
#
#   FROM debian:12-slim         the root must be that (a debootstrapped bookworm minbase root)
#   COPY SRC… DEST              files from the build context (globs; .dockerignore must admit them)
#   RUN shell command           /bin/sh -c in the root, as root, with a clean environment plus ENV
#   ENV KEY=VALUE, USER UID:GID, WORKDIR DIR, ENTRYPOINT ["…"], CMD, LABEL
#
# replay_containerfile FILE CONTEXT ROOT sets image_user, image_workdir, image_env (KEY=VALUE…) and
# image_entrypoint (argv) for running the "image" afterwards; returns non-zero on the first failure.

# Succeeds when CONTEXT/.dockerignore admits PATH (relative): its last matching rule is a `!` rule or
# none matches. Rules: `PATTERN` excludes, `!PATTERN` includes, `#` comments.
_dockerignore_admits() {
    local ignore=$1/.dockerignore path=$2 rule excluded=0
    [ -f "$ignore" ] || return 0
    while IFS= read -r rule || [ -n "$rule" ]; do
        rule=${rule%%[[:space:]]}
        case $rule in '' | '#'*) continue ;; esac
        if [[ $rule == '!'* ]]; then
            # shellcheck disable=SC2053  # the rule is a glob
            [[ $path == ${rule#!} ]] && excluded=0
        else
            [[ $path == $rule ]] && excluded=1
        fi
    done <"$ignore"
    return $excluded
}

_replay_copy() {
    local context=$1 root=$2 args=$3 word dest files=() f
    local -a words
    read -r -a words <<<"$args"
    case ${words[0]:-} in
        '' | --* | '['*) echo "replay: COPY $args: only 'COPY SRC… DEST' is understood"; return 1 ;;
    esac
    [ ${#words[@]} -ge 2 ] || { echo "replay: COPY $args: no destination"; return 1; }
    dest=${words[-1]}
    for word in "${words[@]:0:${#words[@]}-1}"; do
        local matched=()
        mapfile -t matched < <(cd "$context" && shopt -s nullglob && for f in $word; do echo "$f"; done)
        [ ${#matched[@]} -gt 0 ] || { echo "replay: COPY: $word matches no file in $context"; return 1; }
        for f in "${matched[@]}"; do
            [ -f "$context/$f" ] || { echo "replay: COPY: $f is not a regular file"; return 1; }
            _dockerignore_admits "$context" "$f" || { echo "replay: COPY: .dockerignore leaves $f out of the context"; return 1; }
            files+=("$f")
        done
    done
    if [ ${#files[@]} -gt 1 ] && [[ $dest != */ ]]; then
        echo "replay: COPY of several files needs a DEST ending in /"; return 1
    fi
    if [[ $dest == */ ]]; then
        mkdir -p "$root$dest" || return 1
        for f in "${files[@]}"; do cp "$context/$f" "$root$dest" || return 1; done
    else
        mkdir -p "$(dirname "$root$dest")" && cp "$context/${files[0]}" "$root$dest"
    fi
    echo "COPY ${files[*]} -> $dest"
}

replay_containerfile() {
    local file=$1 context=$2 root=$3 line logical="" instr args
    local -a lines=()
    image_user=0:0
    image_workdir=/
    image_env=()
    image_entrypoint=()
    # Logical lines: a trailing backslash continues the line; comment lines are dropped (also inside a
    # continuation, as Docker does).
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ ^[[:space:]]*# ]] && continue
        if [[ $line =~ \\[[:space:]]*$ ]]; then
            logical+="${line%\\*} "
            continue
        fi
        logical+=$line
        [[ $logical =~ ^[[:space:]]*$ ]] || lines+=("$logical")
        logical=""
    done <"$file"
    [ -z "$logical" ] || { echo "replay: $file ends inside a continued line"; return 1; }

    for line in "${lines[@]}"; do
        line=${line#"${line%%[![:space:]]*}"}
        instr=${line%%[[:space:]]*}
        args=${line#"$instr"}
        args=${args#"${args%%[![:space:]]*}"}
        case ${instr^^} in
            FROM)
                [ "$args" = debian:12-slim ] || { echo "replay: FROM $args: the test root is debian:12-slim"; return 1; } ;;
            COPY)
                _replay_copy "$context" "$root" "$args" || return 1 ;;
            RUN)
                [[ $args != '['* ]] || { echo "replay: RUN [exec form] is not understood"; return 1; }
                echo "RUN $args"
                chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
                    "${image_env[@]}" /bin/sh -c "$args" || { echo "replay: RUN failed (exit $?)"; return 1; } ;;
            ENV)
                [[ $args =~ ^[A-Za-z_][A-Za-z0-9_]*=[^[:space:]\"\']*$ ]] ||
                    { echo "replay: ENV $args: only one unquoted KEY=VALUE is understood"; return 1; }
                image_env+=("$args") ;;
            USER)
                [[ $args =~ ^[0-9]+:[0-9]+$ ]] || { echo "replay: USER $args: use a numeric UID:GID"; return 1; }
                image_user=$args ;;
            WORKDIR)
                [[ $args == /* ]] || { echo "replay: WORKDIR $args: use an absolute path"; return 1; }
                mkdir -p "$root$args" && image_workdir=$args ;;
            ENTRYPOINT)
                mapfile -t image_entrypoint < <(python3 -c 'import json, sys
argv = json.loads(sys.argv[1])
assert isinstance(argv, list) and argv and all(isinstance(a, str) and "\n" not in a for a in argv)
print("\n".join(argv))' "$args" 2>/dev/null)
                [ ${#image_entrypoint[@]} -gt 0 ] || { echo "replay: ENTRYPOINT $args: use the JSON form"; return 1; } ;;
            CMD | LABEL) ;;
            *)
                echo "replay: $instr is not understood by this test; extend Tests/Package/containerfile.sh"; return 1 ;;
        esac
    done
    [ ${#image_entrypoint[@]} -gt 0 ] || { echo "replay: no ENTRYPOINT"; return 1; }
}
