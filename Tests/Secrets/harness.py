"""Shared helpers of the secrets and safety suite: running the binary while keeping everything it
printed, PASS/FAIL bookkeeping, and admin access to the test servers (root over the MariaDB socket,
redis-cli). Every output is kept so that the password search can look through all of them."""
import os, subprocess, urllib.parse


class Harness:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.passed = 0
        self.failed = 0
        self.outputs = []            # (label, text) of every stdout and stderr
        self.redis_url = os.environ["SESSMIGRATE_REDIS_URL"]
        self.mysql_url = os.environ["SESSMIGRATE_MYSQL_URL"]
        self.socket = os.environ["SESSMIGRATE_MYSQL_ROOT_SOCKET"]
        self.tls_ca = os.environ.get("SESSMIGRATE_MYSQL_TLS_CA")
        self.tls_other_ca = os.environ.get("SESSMIGRATE_MYSQL_TLS_OTHER_CA")
        redis = urllib.parse.urlsplit(self.redis_url)
        self.redis_host, self.redis_port = redis.hostname or "127.0.0.1", redis.port or 6379
        mysql = urllib.parse.urlsplit(self.mysql_url)
        self.mysql_host, self.mysql_port = mysql.hostname or "127.0.0.1", mysql.port or 3306
        # The TLS redis-servers (servers.sh with SESSMIGRATE_SERVERS_TLS=1): the same CA as MariaDB's.
        self.tls_dir = os.environ.get("SESSMIGRATE_TLS_DIR")
        self.redis_tls_port = urllib.parse.urlsplit(os.environ.get("SESSMIGRATE_REDIS_TLS_URL", "")).port
        self.redis_mtls_port = urllib.parse.urlsplit(os.environ.get("SESSMIGRATE_REDIS_MTLS_URL", "")).port

    # -- bookkeeping ----------------------------------------------------------------------------

    def check(self, ok, label, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {label}")
        else:
            self.failed += 1
            print(f"FAIL {label}" + (f": {detail}" if detail else ""))
        return ok

    def run(self, label, args, env=None, expect=None, contains=None):
        """Runs sessmigrate ARGS; keeps stdout and stderr; checks the exit status and that stdout+stderr
        contain `contains` when given. Returns the CompletedProcess."""
        full_env = dict(os.environ, **(env or {}))
        result = subprocess.run([self.binary] + args, capture_output=True, text=True, env=full_env, cwd=self.work)
        self.outputs.append((f"{label} stdout", result.stdout))
        self.outputs.append((f"{label} stderr", result.stderr))
        if expect is not None:
            allowed = expect if isinstance(expect, tuple) else (expect,)
            self.check(result.returncode in allowed, f"{label}: exit {'/'.join(map(str, allowed))}",
                       f"exit {result.returncode}; stderr: {result.stderr.strip()[-400:]}")
        if contains is not None:
            text = result.stdout + result.stderr
            self.check(contains in text, f"{label}: says '{contains}'", text.strip()[-400:])
        return result

    # -- servers --------------------------------------------------------------------------------

    def sql(self, statement, database=None, socket=None):
        command = ["mariadb", "--no-defaults", "-uroot", f"--socket={socket or self.socket}", "-B", "-N", "-e", statement]
        result = subprocess.run(command + ([database] if database else []), capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"mariadb: {statement[:80]}: {result.stderr.strip()}")
        return result.stdout

    def redis(self, *args, db=0):
        command = ["redis-cli", "-h", self.redis_host, "-p", str(self.redis_port), "-n", str(db)] + [str(a) for a in args]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or result.stdout.startswith("(error)") or result.stdout.startswith("ERR"):
            raise RuntimeError(f"redis-cli {' '.join(command[7:])[:80]}: {result.stdout.strip()} {result.stderr.strip()}")
        return result.stdout

    def redis_tls(self, *args, db=0, port=None):
        """redis-cli over TLS (with the test client certificate) to the TLS server (or `port`)."""
        tls = ["--tls", "--cacert", f"{self.tls_dir}/ca.pem", "--cert", f"{self.tls_dir}/client-cert.pem",
               "--key", f"{self.tls_dir}/client-key.pem"]
        command = ["redis-cli"] + tls + ["-h", "127.0.0.1", "-p", str(port or self.redis_tls_port), "-n", str(db)] + [str(a) for a in args]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or result.stdout.startswith("(error)") or result.stdout.startswith("ERR"):
            raise RuntimeError(f"redis-cli --tls {' '.join(str(a) for a in args)[:80]}: {result.stdout.strip()} {result.stderr.strip()}")
        return result.stdout

    def servers_sh(self, function, directory):
        """Runs a function of scripts/lib/servers.sh (start_plain_mariadb / stop_servers DIR)."""
        script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "lib", "servers.sh")
        return subprocess.run(["bash", "-c", f'. "$0" && SESSMIGRATE_SERVERS_QUIET=1 {function} "$1"', script, directory],
                              capture_output=True, text=True)

    # -- files ----------------------------------------------------------------------------------

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.work, name)
        with open(path, "w") as file:
            file.write(text)
        os.chmod(path, mode)
        return path

    def files(self, skip):
        """Every file under the work directory except those named in `skip`, as (path, bytes)."""
        for root, _, names in os.walk(self.work):
            for name in names:
                path = os.path.join(root, name)
                if name not in skip and os.path.isfile(path):
                    with open(path, "rb") as file:
                        yield path, file.read()
