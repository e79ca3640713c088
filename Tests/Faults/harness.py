"""Shared pieces of the fault tests: running sessmigrate, checks, the results table."""
import collections, re, subprocess, time

BIN = ""
passed = failed = 0
rows = []  # (fault, during, point, outcome)
Context = collections.namedtuple("Context", "work redis mysql src full gen redis_progress mysql_progress fresh_mysql fresh_redis only sessions")


def wanted(only, name):
    """True when the case `name` is selected by the --only regular expression (all when empty)."""
    return not only or re.search(only, name) is not None


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {detail}", flush=True)


def run(*command, timeout=300, env=None):
    return subprocess.run([BIN, *command], capture_output=True, text=True, timeout=timeout, env=env)


class Background:
    """A sessmigrate command running while the test injects a fault; output kept in files."""

    def __init__(self, work, name, *command, env=None):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        self.out_path, self.err_path = f"{work}/{slug}.out", f"{work}/{slug}.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.process = subprocess.Popen([BIN, *command], stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)

    def running(self):
        return self.process.poll() is None

    def finish(self, timeout=300):
        rc = self.process.wait(timeout=timeout)
        return rc, open(self.out_path).read(), open(self.err_path).read()


def wait_until(predicate, timeout=120, every=0.01):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def retries_in(text):
    return len(re.findall(r"transient fault", text))


def verify(a, b):
    out = run("verify", a, b)
    return out.returncode == 0, (out.stdout + out.stderr).strip().splitlines()[-1:] or [""]


def outcome(ok, retried):
    return (f"completed after {retried} retr{'y' if retried == 1 else 'ies'}; verify clean; nothing lost" if ok
            else "FAILED (see the test output)")
