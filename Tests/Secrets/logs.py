"""JSON logs and runbook hooks in the password search: a copy and runbooks logged with --log-format json
(every stderr line must be one JSON log object), and a runbook whose every hook records its SESSMIGRATE_*
variables to a file in the work directory, run with the password in .env and in --var, then failing on a
wrong password. passwords.search() then looks through these outputs and files too."""
import glob, json, os, re

SEVERITIES = {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
RECORD = '#!/bin/sh\nenv | grep "^SESSMIGRATE_" | sort > "hook-$SESSMIGRATE_HOOK-${SESSMIGRATE_STEP:-run}-$$.env"\n'
HOOKED = """name: secrets-hooks
variables:
  source: cloudsql
  target: ./hooks-target.db
  db_password: ""
hooks:
  on_step_start: sh ./record-hook.sh
  on_step_done: sh ./record-hook.sh
  on_gate: sh ./record-hook.sh
  on_failure: sh ./record-hook.sh
  on_done: sh ./record-hook.sh
steps:
  - id: copy
    kind: copy
    source: ${source}
    target: ${target}
    batch_size: "3"
  - id: gate
    kind: gate
    command: "true"
  - id: verify
    kind: verify
    a: ${source}
    b: ${target}
"""


def json_lines(h, label, stderr, command):
    """Checks that every stderr line is a JSON log object of `command`; returns them."""
    objects, bad = [], []
    for line in stderr.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        ok = (isinstance(value, dict) and value.get("severity") in SEVERITIES and TIME.fullmatch(str(value.get("time")))
              and isinstance(value.get("message"), str) and value.get("command") == command)
        (objects if ok else bad).append(value if ok else line)
    h.check(objects and not bad, f"{label}: every stderr line is a JSON log object", "; ".join(map(str, bad[:2]))[:400])
    return objects


def logs(h, a):
    """A copy and a failing runbook, logged as JSON, progress forced."""
    forced = {"SESSMIGRATE_PROGRESS_INTERVAL": "0"}
    copy = h.run("copy, json logs (URL)", ["copy", a["src"], a["dst"], "--batch-size", "3", "--log-format", "json"], env=forced, expect=0)
    lines = json_lines(h, "copy, json logs (URL)", copy.stderr, "copy")
    h.check(sum(line.get("event") == "progress" for line in lines) >= 4, "copy, json logs: a progress line per batch")
    copy = h.run("copy, json logs (SESSMIGRATE_LOG_FORMAT, .env)", ["copy", "cloudsql", "logs-target.db", "--env-file", a["env"],
                                                                   "--batch-size", "3"], env=dict(forced, SESSMIGRATE_LOG_FORMAT="json"), expect=0)
    json_lines(h, "copy, json logs (.env)", copy.stderr, "copy")
    failed = h.run("runbook, json logs, wrong password (--var)", ["run", a["runbook"], "--journal", "logs-wrong.journal", "--var",
                                                                  f"source={a['wrong_mysql']}", "--env-file", a["env"], "--retries", "0",
                                                                  "--log-format", "json"], env=forced, expect=2)
    lines = json_lines(h, "runbook, json logs", failed.stderr, "run")
    last = lines[-1] if lines else {}
    h.check(last.get("severity") == "ERROR" and last.get("runbook") == "secrets-test" and last.get("step") == "preflight"
            and "authentication failed" in last.get("message", ""), "runbook, json logs: the error names its runbook and step", str(last)[:400])
    usage = h.run("usage error, json logs", ["copy", a["src"], "--log-format", "json"], expect=64)
    json_lines(h, "usage error, json logs", usage.stderr, "copy")


def hooks(h, a):
    """Every hook records its SESSMIGRATE_* variables: passwords in .env, in --var, then a failing run."""
    h.write("record-hook.sh", RECORD, mode=0o700)
    runbook = h.write("hooks.yaml", HOOKED)
    h.run("hooked runbook (.env)", ["run", runbook, "--journal", "hooks-env.journal", "--env-file", a["env"], "--log-format", "json"],
          expect=0)
    h.run("hooked runbook (--var)", ["run", runbook, "--journal", "hooks-var.journal", "--var", f"source={a['src']}",
                                     "--var", f"db_password={a['cloudsql_env']['CLOUDSQL_PASSWORD']}"], expect=0)
    failed = h.run("hooked runbook, wrong password", ["run", runbook, "--journal", "hooks-wrong.journal", "--var",
                                                      f"source={a['wrong_mysql']}", "--retries", "0", "--log-format", "json"], expect=2)
    json_lines(h, "hooked runbook, wrong password", failed.stderr, "run")
    records = sorted(glob.glob(os.path.join(h.work, "hook-*.env")))
    names = {os.path.basename(path).rsplit("-", 1)[0] for path in records}
    expected = {"hook-on_step_start-copy", "hook-on_step_done-copy", "hook-on_gate-gate", "hook-on_step_done-verify",
                "hook-on_done-run", "hook-on_failure-copy"}
    h.check(expected <= names, f"hooks recorded their variables ({len(records)} files)", ", ".join(sorted(expected - names)))
    errors = []
    for path in records:
        with open(path) as file:
            errors += [line for line in file.read().splitlines() if line.startswith("SESSMIGRATE_ERROR=")]
    h.check(any("authentication failed" in line and "***@" in line for line in errors),
            "on_failure got the error with the address redacted", "; ".join(errors)[:400])
