"""The live suite's scenarios. Each takes (name, servers, opts, which) and reports through `results`.

which = "backfill": the bot serves from CloudSQL until the flip, then Redis (old store cloudsql, new redis);
which = "rollback": the bot serves from Redis until the flip, then CloudSQL.
"""
import json, os, subprocess, time, uuid

from livekit import Case, HERE, VENV_PY, alive, kill, wait_for
from report import results


def prepare_backfill(case, live):
    """CloudSQL holds the threads the old revision wrote through ADK (and, with --background, generated ones)."""
    case.background_data()
    case.start_writer("old", "cloudsql", seed_events=case.opts.seed_events, live=live)
    case.wait_seeded("old")


def prepare_rollback(case, live):
    """Before the incident: CloudSQL history, the cut-over backfill into Redis, then bot traffic on Redis."""
    case.background_data()
    case.start_writer("pre", "cloudsql", seed_events=case.opts.seed_events)
    case.start_writer("old", "redis", seed_events=1, live=live, wait_for="go-old")  # imports meanwhile
    case.wait_seeded("pre")
    case.writers["pre"].wait(timeout=60)
    case.earlier_backfill()
    open(os.path.join(case.control, "go-old"), "w").close()
    case.wait_seeded("old")


PLANS = {  # runbook, prepare, old store, new store
    "backfill": ("backfill.yaml", prepare_backfill, "cloudsql", "redis"),
    "rollback": ("rollback-to-cloudsql.yaml", prepare_rollback, "redis", "cloudsql"),
}


def new_case(name, servers, opts, which):
    results.cases += 1
    return Case(name, servers, opts, results.cases, PLANS[which][2])


def settle(case, which, problems):
    """After the run: flip if the runbook never did, let the rollout window end, stop the writers, check."""
    _, _, old, new = PLANS[which]
    if not case.flipped_by_runbook():
        problems.append("the runbook never ran the flip command (the harness flipped after the run, so the checker shows what that loses)")
        case.flip_now()
    if not case.stop_writers("old", "new"):
        problems.append("a writer did not stop when told")
    problems += case.writer_problems()
    result = case.check(new, old)
    if result["returncode"] != 0:
        problems.append("checker: " + results.summary(result))
    return result


def start_live_run(case, which):
    runbook, prepare, _, new = PLANS[which]
    prepare(case, live=True)
    flip = case.configure_flip("old", "new", new)
    case.start_live()
    time.sleep(case.opts.lead_in)
    return case.start_run(runbook, flip), flip


def live_scenario(name, servers, opts, which):
    """A writer on the old store until the flip, then the rollout window (old and new revisions together)."""
    case = new_case(name, servers, opts, which)
    try:
        start_live_run(case, which)
        rc = case.finish_run()
        problems = [] if rc == 0 else [f"runbook exit {rc}: {case.run_tail()}"]
        result = settle(case, which, problems)
        results.report(name, not problems, " ; ".join(problems))
        results.info(name, result, case.timeline(case.run_end))
    finally:
        case.kill_all()


def kill_scenario(name, servers, opts, which):
    """kill -9 of the runbook during a converge step, then `resume` with the same --env-file and --var."""
    runbook = PLANS[which][0]
    case = new_case(name, servers, opts, which)
    try:
        process, flip = start_live_run(case, which)

        def converging():
            """Converge steps started and not ended yet."""
            events = case.journal_events()
            ended = {e["step"] for e in events if e["kind"] in ("step_done", "step_failed")}
            return [e["step"] for e in events if e["kind"] == "step_started" and (e["step"] or "").startswith("converge")
                    and e["step"] not in ended]
        step, deadline = None, time.time() + opts.run_timeout
        while process.poll() is None and time.time() < deadline and step is None:
            if converging():
                time.sleep(opts.kill_delay)  # into the step, unless it ends first: then wait for the next one
                if converging() and process.poll() is None:
                    step = converging()[-1]
                    kill(process.pid)
                    process.wait()
            time.sleep(0.02)
        problems = []
        if step is not None:
            if step not in converging():
                problems.append(f"the kill came after {step} had ended (not during it)")
            print(f"info {name}: killed (SIGKILL) during step {step}, {time.time() - case.started_at:.1f} s into the run", flush=True)
            case.start_run(runbook, flip, verb="resume")
            rc = case.finish_run()
            if rc != 0:
                problems.append(f"resume exit {rc}: {case.run_tail('resume')}")
        else:
            hung = process.poll() is None
            rc = case.finish_run(timeout=5)
            problems.append(f"no converge step was running long enough to be killed: " +
                            (f"none within {opts.run_timeout:g} s" if hung else f"the run ended first (exit {rc}: {case.run_tail()})"))
        result = settle(case, which, problems)
        results.report(name, not problems, " ; ".join(problems))
        results.info(name, result, case.timeline(case.run_end))
    finally:
        case.kill_all()


def gate_scenario(name, servers, opts, which):
    """A flip command that leaves a background process (`sleep 300 & true`) must not hang the gate: the run
    must be past the gate within 30 s. Quiet stores (generated sessions, no writer)."""
    runbook = PLANS[which][0]
    case = new_case(name, servers, opts, which)
    tag = uuid.uuid4().hex
    try:
        case.background_data(sessions=100)  # nothing reads these through ADK here
        if which == "rollback":
            case.earlier_backfill()
        gates = case.steps_of_kind(runbook, "gate")
        process = case.start_run(runbook, "sleep 300 & true", env=dict(os.environ, LIVE_GATE_TAG=tag), drain=1)

        def gate_started():
            return next((e for e in case.journal_events() if e["kind"] == "step_started" and e["step"] in gates), None)
        wait_for(lambda: process.poll() is not None or gate_started(), opts.run_timeout)
        started = gate_started()
        problems = []
        if started is None:
            problems.append(f"the runbook has no gate step or never reached one (gate steps {gates}; exit {process.poll()}: {case.run_tail()})")
        elif not wait_for(lambda: any(e["seq"] > started["seq"] and (e["step"] != started["step"] or e["kind"] == "step_done")
                                      for e in case.journal_events()), 30):
            problems.append(f"still in gate '{started['step']}' 30 s after it started: the background process hangs the run")
        rc = case.finish_run(timeout=5 if problems else opts.run_timeout)
        if rc != 0 and not problems:
            problems.append(f"runbook exit {rc}: {case.run_tail()}")
        leftovers = tagged_processes(tag)
        for pid in leftovers:
            kill(pid)
        results.report(name, not problems, " ; ".join(problems))
        print(f"info {name}: gate steps {gates}; background processes the gate left running: {len(leftovers)} (killed by PID)", flush=True)
    finally:
        case.kill_all()
        for pid in tagged_processes(tag):
            kill(pid)


def tagged_processes(tag):
    """PIDs of live processes whose environment holds LIVE_GATE_TAG=tag (the gate's `sleep 300`)."""
    found, wanted = [], f"LIVE_GATE_TAG={tag}".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if wanted in f.read().split(b"\0") and alive(int(entry)):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def control_scenario(name, servers, opts, which):
    """(i) quiet store: the writer ran before, nothing writes during the run; the runbook and the checker
    must pass. (ii) loss injection: one ledger event removed from the new primary behind ADK's back; the
    checker must report exactly that event, from the ledger and from containment."""
    runbook, prepare, old, new = PLANS[which]
    case = new_case(name, servers, opts, which)
    try:
        prepare(case, live=False)
        case.writers["old"].wait(timeout=60)
        flip = case.configure_flip("old", "new", new, quiet=True)
        case.start_run(runbook, flip, drain=1)
        rc = case.finish_run()
        result = case.check(new, old)
        ok = rc == 0 and result["returncode"] == 0
        results.report(name, ok, f"runbook exit {rc}: {case.run_tail()} ; checker: {results.summary(result)}")
        results.info(name, result, f"flip command run by the runbook: {case.flipped_by_runbook()}")
        if ok:
            inject(case, name.replace("quiet", "loss"), new, old)
        else:
            results.report(name.replace("quiet", "loss"), False, "needs a passing quiet run to inject into")
    finally:
        case.kill_all()


def inject(case, name, new, old):
    events = [r for r in case.ledger("old") if r["kind"] == "event"]
    victim = events[len(events) // 2]
    out = subprocess.run([VENV_PY, os.path.join(HERE, "inject.py"), "--env-file", case.env_file, "--backend", new,
                          "--app", victim["app"], "--user", victim["user"], "--session", victim["session"],
                          "--event", victim["event_id"]], capture_output=True, text=True, timeout=120)
    result = case.check(new, old, label="check-after-injection", append=False)
    want = [[victim["app"], victim["user"], victim["session"], victim["event_id"], ["ledger", "old primary"]]]
    ok = out.returncode == 0 and result["returncode"] == 1 and result["lost"] == want and \
        all(f.startswith("LOST event") for f in result["findings"])
    results.report(name, ok, f"inject: {out.stdout.strip()} {out.stderr.strip()[-300:]}; wanted {json.dumps(want)}; "
                             f"checker: {results.summary(result)}")
    print(f"info {name}: removed {victim['session']} {victim['event_id']} from {new}; the checker reported "
          f"{[item[2] + ' ' + item[3] for item in result['lost']]}", flush=True)


def stale_control(name, servers, opts, which):
    """(iii) the writers' handling of ADK's stale-session check: two revisions on the same CloudSQL, on the
    same few threads, at twice the rate, no runbook. ADK must raise StaleSessionError (recorded as
    expected, then retried; two creates of one thread give AlreadyExistsError, recorded as expected too)
    and the checker must still find every event."""
    case = new_case(name, servers, opts, "backfill")
    try:
        case.opts = type(opts)(**{**vars(opts), "hot": 2, "rate": opts.rate * 2, "new_every": 0, "pool": 12})
        case.start_writer("old", "cloudsql", seed_events=1, live=True, wait_for="go-old")
        case.start_writer("new", "cloudsql", live=True, wait_for="go-new")
        # The old writer creates the threads first: two ADK processes bootstrapping an empty database, or
        # creating the first sessions of one user, at once race inside ADK 2.13 itself ("Schema version not
        # found in adk_internal_metadata"; IntegrityError "Duplicate entry … for key 'PRIMARY'" on
        # user_states under MariaDB's REPEATABLE READ), which is not what this control is about.
        open(os.path.join(case.control, "go-old"), "w").close()
        case.wait_seeded("old")
        open(os.path.join(case.control, "go-new"), "w").close()
        case.wait_seeded("new")
        time.sleep(opts.window)
        for writer in ("old", "new"):
            with open(os.path.join(case.control, f"stop-{writer}"), "w") as f:
                f.write(repr(time.time()))
        for writer in ("old", "new"):
            case.writers[writer].wait(timeout=60)
        problems = case.writer_problems()
        result = case.check("cloudsql", "cloudsql")
        stale = result["figures"].get("stale_retries", 0)
        ok = not problems and result["returncode"] == 0 and stale > 0
        results.report(name, ok, f"stale retries {stale} (want > 0); {problems}; checker: {results.summary(result)}")
        results.info(name, result)
    finally:
        case.kill_all()
