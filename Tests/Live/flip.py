#!/usr/bin/env python3
"""The runbook's `flip` command in the live suite: Cloud Run rolling out the new bot revision.

    flip.py --control DIR

DIR/flip.json (written by live.py) names the new revision's writer command and the rollout window W.
The flip starts the new-revision writer (writer.py on the new store) as a detached background process and
returns at once, so the runbook's gate is left with a process running in the background, as a real
`gcloud run deploy` wrapper may do. Once the new writer is connected it tells the old-revision writer to
stop W seconds later (writer.py --ready-stop): old and new instances serve side by side for W seconds,
touching the same threads. As a fallback the old writer is told to stop W + 30 s from now in case the new
writer never comes up.

Idempotent, like a real flip: run again (a resumed runbook repeating its gate) while the new writer
runs, it records the call and starts nothing. Each call appends a line to DIR/flips.log. With
"quiet": true in flip.json it only records the call (the quiet controls have no writers).
Stdlib only; runs under whatever python3 the runbook's shell finds first on PATH or the one live.py names.
"""
import json
import os
import subprocess
import sys
import time


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--control":
        sys.exit("usage: flip.py --control DIR")
    control = sys.argv[2]
    with open(os.path.join(control, "flip.json")) as f:
        config = json.load(f)
    now = time.time()
    with open(os.path.join(control, "flips.log"), "a") as log:
        log.write(f"{now!r} pid={os.getpid()}\n")
    pid_path = os.path.join(control, "new.pid")
    if config.get("quiet"):
        print("flip: recorded (quiet control: no writers)")
        return
    if os.path.exists(pid_path) and alive(int(open(pid_path).read())):
        print("flip: the new revision already serves; nothing to do")
        return
    window = float(config["window"])
    fallback = os.path.join(control, f"stop-{config['old_name']}")
    if not os.path.exists(fallback):
        with open(fallback, "w") as f:
            f.write(repr(now + window + 30))
    with open(os.path.join(control, f"{config['new_name']}.log"), "a") as out:
        process = subprocess.Popen(config["command"] + ["--ready-stop", f"{config['old_name']}:{window}"],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    with open(pid_path, "w") as f:
        f.write(str(process.pid))
    with open(os.path.join(control, "flipped"), "w") as f:
        f.write(repr(now))
    print(f"flip: new revision writer pid {process.pid} started; the old revision stops {window:g} s after it is up")


if __name__ == "__main__":
    main()
