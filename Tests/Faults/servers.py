"""Throwaway redis-server and mariadbd that the fault tests can kill and restart on the same port and data.

Redis keeps its data in an append-only file (fsync on every write) so a restart, even after SIGKILL, keeps
every acknowledged write; MariaDB keeps its datadir (InnoDB, flush at every commit). Both listen on
127.0.0.1 only, on free ports, with all files in one directory; stop() ends them by PID.
"""
import os, signal, socket, subprocess, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_gone(pid, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.02)
    return False


class Redis:
    def __init__(self, directory, persistent=True):
        self.dir = directory
        self.port = free_port()
        self.process = None
        self.persistent = persistent
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def cli(self, *args, db=0, check=True):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "-n", str(db), *args], capture_output=True, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"redis-cli {args}: {out.stderr}")
        return out.stdout.strip()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always", "--databases", "16",
             "--enable-debug-command", "local", "--logfile", f"{self.dir}/redis.log"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_ready()

    def wait_ready(self, allow_loading=False):
        deadline = time.time() + 60
        while time.time() < deadline:
            reply = subprocess.run(["redis-cli", "-p", str(self.port), "PING"], capture_output=True, text=True).stdout
            if "PONG" in reply or (allow_loading and "LOADING" in reply):
                return reply
            time.sleep(0.02)
        raise RuntimeError("redis-server did not come back")

    def restart(self, sig=signal.SIGKILL, wait=True):
        self.down(sig)
        return self.up(wait)

    def down(self, sig=signal.SIGKILL):
        self.process.send_signal(sig)
        self.process.wait(timeout=60)

    def up(self, wait=True):
        self.process = subprocess.Popen(
            self.process.args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.wait_ready(allow_loading=not wait)

    def kill_clients(self):
        return self.cli("CLIENT", "KILL", "TYPE", "normal")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class MariaDB:
    def __init__(self, directory):
        self.dir = directory
        self.port = free_port()
        self.socket = f"{directory}/mysqld.sock"
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={directory}/data", f"--user={os.environ.get('USER') or 'root'}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"], check=True, capture_output=True)
        self.process = None
        self.start()
        self.sql("CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'apppw'; GRANT ALL PRIVILEGES ON *.* TO 'app'@'127.0.0.1';")

    def url(self, database):
        return f"mysql://app:apppw@127.0.0.1:{self.port}/{database}"

    def sql(self, statement, database="", check=True):
        out = subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={self.socket}", "-B", "-N", "-e", statement]
                             + ([database] if database else []), capture_output=True, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"mariadb: {statement[:80]}: {out.stderr}")
        return out.stdout.strip()

    def start(self):
        os.makedirs(f"{self.dir}/tmp", exist_ok=True)  # its own tmpdir, as scripts/lib/servers.sh gives its mariadbd
        self.process = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--user={os.environ.get('USER') or 'root'}", f"--datadir={self.dir}/data",
             f"--tmpdir={self.dir}/tmp",
             f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
             f"--pid-file={self.dir}/mysqld.pid", f"--log-error={self.dir}/err.log", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", "--innodb-buffer-pool-size=128M", "--max-allowed-packet=64M"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 90
        while time.time() < deadline:
            if subprocess.run(["mariadb-admin", "--no-defaults", "-uroot", f"--socket={self.socket}", "ping"],
                              capture_output=True).returncode == 0:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited ({self.process.returncode}); see {self.dir}/err.log")
            time.sleep(0.05)
        raise RuntimeError("mariadbd did not start")

    def restart(self, sig=signal.SIGKILL):
        self.process.send_signal(sig)
        self.process.wait(timeout=90)
        self.start()

    def kill_clients(self, user="app"):
        ids = self.sql(f"SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{user}'").split()
        for connection in ids:
            self.sql(f"KILL CONNECTION {connection}", check=False)
        return len(ids)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
