"""Figures of a live run: from the writers' ledgers and from the runbook's journal. Stdlib only.

The journal figures are best effort: `sessmigrate status --journal J --format json` is tried first (its
format is being redesigned, so any JSON document is searched for the keys below), then the journal's
`journal_events(step, kind, detail)` table is read directly. A figure that cannot be found is left out.
"""
import json
import sqlite3
import subprocess


def from_ledger(records):
    def count(kind, phase=None):
        return sum(1 for r in records if r["kind"] == kind and (phase is None or r.get("phase") == phase))
    return {"seed_events": count("event", "seed"), "live_events": count("event", "live"),
            "live_sessions_created": count("create", "live"), "stale_retries": count("stale"),
            "create_races": count("exists")}


def _walk(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, path + (str(key),))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, path)
    else:
        yield path, value


def _numbers(document, wanted):
    """Sums of the numeric leaves whose key contains one of `wanted` (e.g. 'passes', 'merged')."""
    sums = {}
    for path, value in _walk(document):
        if not path or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        for name in wanted:
            if name in path[-1]:
                sums[path[-1]] = sums.get(path[-1], 0) + value
    return sums


def from_journal(journal, binary=""):
    found = {}
    if binary:
        try:
            out = subprocess.run([binary, "status", "--journal", journal, "--format", "json"],
                                 capture_output=True, text=True, timeout=60)
            if out.returncode == 0:
                found.update({f"status.{k}": v for k, v in _numbers(json.loads(out.stdout), ("passes", "merged")).items()})
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
    try:
        connection = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        rows = connection.execute("SELECT step, kind, detail FROM journal_events ORDER BY seq").fetchall()
        connection.close()
    except sqlite3.Error:
        return found
    converge = [(step, kind, json.loads(detail or "{}")) for step, kind, detail in rows if (step or "").startswith("converge")]
    done = [d for _, kind, d in converge if kind == "step_done"]
    if done:
        found["converge_passes"] = sum(_numbers(d, ("passes",)).get("passes", 0) for d in done)
    elif converge:
        # A converge step that did not finish: its checkpoints carry the pass number it had reached.
        reached = [v for _, kind, d in converge if kind == "checkpoint" for path, v in _walk(d) if path[-1:] == ("pass",)]
        if reached:
            found["converge_passes_reached"] = max(reached) + 1
    if converge:
        found["converge_steps_started"] = sum(1 for _, kind, _ in converge if kind == "step_started")
        found["converge_checkpoints"] = sum(1 for _, kind, _ in converge if kind == "checkpoint")
        # Each pass's copy summary is cumulative over its batches: the last one of each (step, pass) counts.
        last = {}
        for step, kind, detail in converge:
            summary = (detail.get("copy") or {}).get("summary") if kind == "checkpoint" else None
            if summary is not None:
                last[(step, detail.get("pass"))] = summary
        for summary in last.values():
            for name, value in _numbers(summary, ("updated", "inserted", "kept_newer_target")).items():
                found[f"converge_{name}"] = found.get(f"converge_{name}", 0) + value
    for step, kind, detail in rows:
        if kind != "step_done":
            continue
        # pending_converge: the sessions the pre-flip check found changed since the watermark (what the
        # converge after the flip then carries over), and the age of the oldest of them.
        for name, value in _numbers(json.loads(detail or "{}"), ("merged", "kept_newer_target", "pending")).items():
            found[f"{name}"] = found.get(name, 0) + value
    failed = [step for step, kind, _ in rows if kind == "step_failed"]
    if failed:
        found["steps_failed"] = ",".join(dict.fromkeys(failed))
    return found
