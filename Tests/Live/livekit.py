"""The live suite's pieces: one Case per scenario (its stores, .env, writers, runbook run, checker).

Stdlib only (the harness runs under the system python3; writers and the checker run in venv-community).
Every process started here is ended by PID: writers by their stop file, then SIGKILL if they do not stop.
"""
import json, os, re, shlex, signal, sqlite3, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(os.environ.get("SESSMIGRATE_CACHE", os.path.expanduser("~/.cache/sessmigrate")), "venv-community")
VENV_PY = os.path.join(VENV, "bin", "python")
TTL = 315360000  # 10 years: expiry is not what this suite tests (generated sessions are dated 2025)


def alive(pid):
    """True while the process exists and is not a zombie (detached writers are reaped by init, maybe late)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_for(predicate, timeout, every=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def write_epoch(path, value):
    with open(path + ".tmp", "w") as f:
        f.write(repr(value))
    os.replace(path + ".tmp", path)


class Case:
    def __init__(self, name, servers, opts, number, backend):
        self.name, self.opts, self.servers = name, opts, servers
        self.redis, self.mysql = servers
        self.dir = os.path.join(opts.work, name)
        self.control = os.path.join(self.dir, "control")
        os.makedirs(self.control)
        self.journal = os.path.join(self.dir, "run.journal")
        self.env_file = os.path.join(self.dir, "bot.env")
        database = f"live_{number}"
        self.mysql.sql(f"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}")
        self.redis.cli("FLUSHDB", db=number)
        self.redis_db = number
        self.mysql_url = self.mysql.url(database)
        self.redis_url = f"{self.redis.url}/{number}?layout=community"
        with open(self.env_file, "w") as f:
            f.write(f"SESSION_BACKEND={backend}\nCLOUDSQL_HOST=127.0.0.1\nCLOUDSQL_PORT={self.mysql.port}\n"
                    f"CLOUDSQL_DATABASE={database}\nCLOUDSQL_USER=app\nCLOUDSQL_PASSWORD=apppw\n"
                    f"REDIS_URL={self.redis_url}\nREDIS_SESSION_TTL={TTL}\n")
        self.writers = {}   # name -> Popen (started here) or pid (started by flip.py)
        self.run_process = None
        self.run_end = None
        self.notes = []

    # -- sessmigrate ---------------------------------------------------------------------------------------
    def sessmigrate(self, *args, timeout=300):
        return subprocess.run([self.opts.sessmigrate, *args], capture_output=True, text=True, timeout=timeout)

    def background_data(self, sessions=None):
        """Sessions sessmigrate generates in CloudSQL (old history, no ledger): the copy has real work."""
        sessions = self.opts.background if sessions is None else sessions
        if sessions:
            out = self.sessmigrate("generate", self.mysql_url, "--sessions", str(sessions), "--events", "5",
                                   "--seed", str(self.opts.seed))
            assert out.returncode == 0, out.stderr

    def earlier_backfill(self):
        """The cut-over that happened before a rollback: CloudSQL copied into Redis."""
        out = self.sessmigrate("copy", "cloudsql", "redis", "--env-file", self.env_file, "--ttl-from", "now")
        assert out.returncode == 0, out.stdout + out.stderr

    # -- writers -------------------------------------------------------------------------------------------
    def writer_command(self, name, backend, seed_events=0, live=False):
        o = self.opts
        command = [VENV_PY, os.path.join(HERE, "writer.py"), "--env-file", self.env_file, "--backend", backend,
                   "--name", name, "--ledger", os.path.join(self.control, f"ledger-{name}.jsonl"), "--control", self.control,
                   "--seed", str(o.seed), "--pool", str(o.pool), "--seed-events", str(seed_events), "--rate", str(o.rate),
                   "--new-every", str(o.new_every), "--hot", str(o.hot)]
        return command + (["--live"] if live else [])

    def start_writer(self, name, backend, seed_events=0, live=False, wait_for=None):
        """A writer process; with `wait_for` it imports ADK now but writes only once that control file exists."""
        command = self.writer_command(name, backend, seed_events, live)
        if wait_for:
            command += ["--wait-for", os.path.join(self.control, wait_for)]
        with open(os.path.join(self.control, f"{name}.log"), "a") as log:
            self.writers[name] = subprocess.Popen(command,
                                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        return self.writers[name]

    def wait_seeded(self, name, timeout=120):
        process = self.writers[name]
        ok = wait_for(lambda: os.path.exists(os.path.join(self.control, f"seeded-{name}")) or process.poll() is not None, timeout)
        if not ok or not os.path.exists(os.path.join(self.control, f"seeded-{name}")):
            raise RuntimeError(f"writer {name} did not finish seeding: {self.log_tail(name)}")

    def log_tail(self, name):
        try:
            with open(os.path.join(self.control, f"{name}.log")) as f:
                return f.read()[-600:]
        except OSError:
            return "(no log)"

    def configure_flip(self, old, new, backend, quiet=False):
        config = {"quiet": quiet, "window": self.opts.window, "old_name": old, "new_name": new,
                  "command": self.writer_command(new, backend, live=True)}
        with open(os.path.join(self.control, "flip.json"), "w") as f:
            json.dump(config, f)
        return f"{shlex.quote(sys.executable)} {shlex.quote(os.path.join(HERE, 'flip.py'))} --control {shlex.quote(self.control)}"

    def flipped_by_runbook(self):
        return os.path.exists(os.path.join(self.control, "flips.log"))

    def flip_now(self):
        """The harness flips when the runbook never did (it has no gate), so the rollout still happens."""
        out = subprocess.run(shlex.split(self.flip_command), capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr

    def start_live(self):
        write_epoch(os.path.join(self.control, "t0"), time.time())

    def new_writer_pid(self):
        try:
            with open(os.path.join(self.control, "new.pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def stop_writers(self, old, new, timeout=60):
        """The old revision stops by itself at the end of its window; the new one is stopped now. Then both
        must have exited (SIGKILL after `timeout`, which fails the scenario)."""
        process = self.writers.get(old)
        if process is not None and process.poll() is None:
            if not wait_for(lambda: process.poll() is not None, self.opts.window + 45):
                self.notes.append(f"old writer {old} still running long after its window; stopped")
        write_epoch(os.path.join(self.control, f"stop-{old}"), time.time())
        write_epoch(os.path.join(self.control, f"stop-{new}"), time.time())
        pid = self.new_writer_pid()
        stopped = wait_for(lambda: (process is None or process.poll() is not None) and (pid is None or not alive(pid)), timeout)
        if not stopped:
            self.notes.append("a writer did not stop when told")
        self.kill_all()
        return stopped

    def ledger(self, name):
        records = []
        try:
            with open(os.path.join(self.control, f"ledger-{name}.jsonl"), encoding="utf-8") as f:
                for line in f:
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        pass  # a torn last line of a killed writer
        except OSError:
            pass
        return records

    def writer_problems(self):
        """Every writer that started must have stopped cleanly (its ledger ends with the `stop` marker)."""
        problems = []
        for path in sorted(os.listdir(self.control)):
            match = re.fullmatch(r"ledger-(.+)\.jsonl", path)
            if match and not any(r["kind"] == "marker" and r.get("what") == "stop" for r in self.ledger(match.group(1))):
                problems.append(f"writer {match.group(1)} did not stop cleanly: {self.log_tail(match.group(1))[-300:]}")
        return problems

    def timeline(self, run_end):
        """When things happened, in seconds from the runbook's start: the flip, the new revision up, the old
        revision's last committed write, the end of the run. An old write after the run ended was never
        carried by the runbook (its drain was shorter than this rollout)."""
        def at(value):
            return f"+{value - self.started_at:.1f} s" if value else "never"
        def epoch(name):
            try:
                with open(os.path.join(self.control, name)) as f:
                    return float(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                return None
        old_writes = [r["t"] for r in self.ledger("old") if r["kind"] == "event" and r.get("phase") == "live"]
        last_old = max(old_writes) if old_writes else None
        text = (f"flip {at(epoch('flips.log'))}, new revision up {at(epoch('ready-new'))}, "
                f"old revision's last write {at(last_old)}, run ended {at(run_end)}")
        if last_old and run_end and last_old > run_end:
            text += f" (the old revision wrote {last_old - run_end:.1f} s after the run ended)"
        return text

    def kill_all(self):
        for process in self.writers.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        pid = self.new_writer_pid()
        if pid is not None and alive(pid):
            kill(pid)
        if self.run_process is not None and self.run_process.poll() is None:
            self.run_process.kill()
            self.run_process.wait()

    # -- the runbook ---------------------------------------------------------------------------------------
    def runbook_args(self, flip, drain=None):
        variables = {"flip": flip, "drain": f"{self.opts.drain if drain is None else drain:g}", "snapshot": os.path.join(self.dir, "snapshot.db"),
                     "batch_size": str(self.opts.batch_size)}
        self.flip_command = flip
        return ["--env-file", self.env_file] + [item for k, v in variables.items() for item in ("--var", f"{k}={v}")]

    def start_run(self, runbook, flip, env=None, verb="run", drain=None):
        args = self.runbook_args(flip, drain)
        head = ["run", os.path.join(self.opts.runbooks, runbook), "--journal", self.journal] if verb == "run" else ["resume", "--journal", self.journal]
        with open(os.path.join(self.dir, f"{verb}.out"), "a") as out, open(os.path.join(self.dir, f"{verb}.err"), "a") as err:
            self.run_process = subprocess.Popen([self.opts.sessmigrate, *head, *args], stdin=subprocess.DEVNULL,
                                                stdout=out, stderr=err, env=env)
        if verb == "run":
            self.started_at = time.time()
        return self.run_process

    def finish_run(self, timeout=None):
        """Exit status of the runbook process, or None when it had to be killed after the timeout."""
        process = self.run_process
        if wait_for(lambda: process.poll() is not None, timeout or self.opts.run_timeout, every=0.1):
            self.run_end = time.time()
            return process.returncode
        process.kill()
        process.wait()
        self.notes.append(f"runbook still running after {timeout or self.opts.run_timeout} s: killed")
        return None

    def run_tail(self, verb="run"):
        try:
            with open(os.path.join(self.dir, f"{verb}.err")) as f:
                lines = [line.strip() for line in f if line.strip()]
            return " | ".join(lines[-4:])[-700:]
        except OSError:
            return ""

    def journal_events(self):
        try:
            connection = sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True, timeout=5)
            try:
                rows = connection.execute("SELECT seq, time, step, kind, detail FROM journal_events ORDER BY seq").fetchall()
            finally:
                connection.close()
        except sqlite3.Error:
            return []
        return [{"seq": r[0], "time": r[1], "step": r[2], "kind": r[3], "detail": r[4]} for r in rows]

    def steps_of_kind(self, runbook, kind):
        """Step ids of a kind, from the runbook's YAML (`- id: X` followed by `kind: Y`)."""
        with open(os.path.join(self.opts.runbooks, runbook)) as f:
            pairs = re.findall(r"-\s+id:\s*(\S+)\s*\n\s+kind:\s*(\S+)", f.read())
        return [step for step, k in pairs if k == kind]

    # -- the checker ---------------------------------------------------------------------------------------
    def check(self, new, old, label="check", append=True):
        out_json = os.path.join(self.dir, f"{label}.json")
        command = [VENV_PY, os.path.join(HERE, "check.py"), "--env-file", self.env_file, "--new", new, "--old", old,
                   "--ledgers", self.control, "--json", out_json, "--append-sample", str(self.opts.append_sample)]
        if os.path.exists(self.journal):
            command += ["--journal", self.journal, "--sessmigrate", self.opts.sessmigrate]
        if not append:
            command.append("--no-append")
        began = time.time()
        out = subprocess.run(command, capture_output=True, text=True, timeout=300)
        with open(os.path.join(self.dir, f"{label}.out"), "w") as f:
            f.write(out.stdout + out.stderr)
        try:
            with open(out_json) as f:
                result = json.load(f)
        except (OSError, ValueError):
            raise RuntimeError(f"check.py failed ({out.returncode}): {(out.stdout + out.stderr)[-800:]}")
        result["returncode"] = out.returncode
        result["figures"]["check_seconds"] = round(time.time() - began, 1)
        return result

