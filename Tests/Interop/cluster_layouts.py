#!/usr/bin/env python3
"""Redis Cluster and the older ADK Redis layouts, with the real ADK (issue 14, items 2 and 4).

  python3 Tests/Interop/cluster_layouts.py --sessmigrate .build/debug/sessmigrate

Needs the servers of scripts/lib/servers.sh started with SESSMIGRATE_SERVERS_CLUSTER=1
(SESSMIGRATE_REDIS_CLUSTER_URL, SESSMIGRATE_REDIS_CLUSTER_PORTS: 3 primaries then 3 replicas),
SESSMIGRATE_REDIS_URL and SESSMIGRATE_MYSQL_URL, and the venvs of scripts/setup (venv-community,
venv-adkredis, venv-adkredis014).

1. kind redis-community-cluster: google-adk-community's RedisSessionService(cluster_uri=…) writes
   dataset.py's NASTY dataset into the cluster; sessmigrate copies cluster -> MySQL -> snapshot ->
   cluster (emptied); the same ADK reads the cluster back equal to what it wrote.
2. kill -9 of a copy MySQL -> cluster mid-way, then the same copy again: verify IDENTICAL.
3. a primary fails over mid-copy (`CLUSTER FAILOVER` on its replica), then a primary is killed and
   its replica takes over, each during a copy: the copy finishes (transient faults) and verify
   says IDENTICAL; the killed node is restarted as a replica.
4. kind redis-adk-redis-014: google-adk-redis 0.1.4 writes (one string per user); sessmigrate
   copies to 0.1.5's layout, which 0.1.5 reads back equal; and back to 0.1.4's, which 0.1.4 reads
   back equal.
5. mixed layouts and a key of the wrong type are refused, naming the keys and types.

Prints `PASS ...` / `FAIL ...` per check and ends with `N passed, N failed`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import run  # noqa: E402

CLUSTER_KIND = "redis-community-cluster"
V014_KIND = "redis-adk-redis-014"


class ClusterSuite(run.Suite):
  def __init__(self, args):
    super().__init__(args)
    cache = args.cache or os.environ.get("SESSMIGRATE_CACHE") or os.path.expanduser("~/.cache/sessmigrate")
    self.python["adkredis014"] = os.path.join(cache, "venv-adkredis014", "bin", "python")
    self.cluster = os.environ.get("SESSMIGRATE_REDIS_CLUSTER_URL", "").rstrip("/")
    self.ports = os.environ.get("SESSMIGRATE_REDIS_CLUSTER_PORTS", "").split()

  # ------------------------------------------------------------------ cluster helpers
  def cli(self, port: str, *argv: str) -> str:
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", port, *argv], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    return r.stdout.strip()

  def primaries(self) -> list[str]:
    return [p for p in self.ports if "role:master" in self.cli(p, "INFO", "replication")]

  def replica_of(self, primary: str) -> str | None:
    for p in self.ports:
      info = self.cli(p, "INFO", "replication")
      if "role:slave" in info and f"master_port:{primary}" in info:
        return p
    return None

  def reset_cluster(self) -> None:
    for p in self.primaries():
      self.cli(p, "FLUSHALL")

  def wait_cluster_ok(self, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
      alive = [p for p in self.ports if self.cli(p, "PING") == "PONG"]
      if alive and all("cluster_state:ok" in self.cli(p, "CLUSTER", "INFO") for p in alive) \
          and len([p for p in alive if "role:master" in self.cli(p, "INFO", "replication")]) == 3:
        return True
      time.sleep(0.2)
    return False

  def address(self, kind: str, role: str) -> str:
    if kind == CLUSTER_KIND:
      return self.cluster + "?layout=community"
    if kind == V014_KIND:
      return f"{self.redis}/{self.args.redis_db_base + (role == 'dst')}?layout=adk-redis-014"
    if kind == "redis-adk-redis":
      return f"{self.redis}/{self.args.redis_db_base + 2}?layout=adk-redis"
    return super().address(kind, role)

  def venv_for(self, kind: str) -> str:
    return {V014_KIND: "adkredis014", "redis-adk-redis": "adkredis"}.get(kind, "community")

  def read(self, kind: str, url: str, name: str) -> list[dict]:
    return self.adk_read(kind, url, name, venv=self.venv_for(kind))

  def mysql_url(self, name: str) -> str:
    base, _, _ = self.mysql.rpartition("/")
    return f"{base}/smt_cluster_{name}"

  # ------------------------------------------------------------------ checks
  def check_cluster_round_trip(self) -> list[dict] | None:
    name = f"{CLUSTER_KIND}: ADK writes the dataset into the cluster; cluster -> MySQL -> snapshot -> cluster; ADK reads it back equal"
    try:
      self.reset_cluster()
      url = self.address(CLUSTER_KIND, "src")
      self.adk("write", CLUSTER_KIND, url)
      ref = self.read(CLUSTER_KIND, url, "cluster-ref")
      mysql = self.mysql_url("rt")
      self.tool("reset", "mysql", mysql)
      problems = []
      r, _ = self.copy(url, mysql)
      if r.returncode != 0:
        problems.append(f"cluster -> mysql exit {r.returncode}: {run._tail(r.stdout + r.stderr, 4)}")
      problems += compare.compare(ref, self.read("mysql", mysql, "cluster-mysql"))
      snap = os.path.join(self.work, "cluster.snapshot")
      if os.path.exists(snap):
        os.remove(snap)
      r, _ = self.sessmigrate("snapshot", mysql, snap)
      if r.returncode != 0:
        problems.append(f"snapshot exit {r.returncode}: {run._tail(r.stdout + r.stderr, 4)}")
      self.reset_cluster()
      r, _ = self.sessmigrate("restore", snap, url, "--ttl-from", "now")
      if r.returncode != 0:
        problems.append(f"restore into the cluster exit {r.returncode}: {run._tail(r.stdout + r.stderr, 4)}")
      problems += compare.compare(ref, self.read(CLUSTER_KIND, url, "cluster-back"))
      r, _ = self.sessmigrate("inspect", self.cluster)
      if "Redis Cluster, 3 primaries" not in r.stdout or "keys)" not in r.stdout:
        problems.append(f"inspect does not name the cluster: {run._tail(r.stdout + r.stderr, 4)}")
      self.result(not problems, name, f"{len(ref)} sessions, {sum(len(s['events']) for s in ref)} events"
                  if not problems else run._indent("\n".join(problems[:3])))
      return ref if not problems else None
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))
      return None

  def generated_source(self, sessions: int) -> str:
    src = self.mysql_url("gen")
    self.tool("reset", "mysql", src)
    r, _ = self.sessmigrate("generate", src, "--sessions", str(sessions), "--events", "4", "--seed", "7")
    if r.returncode != 0:
      raise RuntimeError(f"generate exit {r.returncode}: {run._tail(r.stdout + r.stderr, 4)}")
    return src

  def copy_in_background(self, src: str, dst: str, *extra: str) -> subprocess.Popen:
    """The copy a fault case interrupts, held to --copy-rate events/s by the brake (`--max-rate`): a release
    binary copied the 3,000 sessions in 0.5 s, and the fault, placed by polling the cluster's key counts while
    other suites ran, sometimes came after the copy had ended."""
    env = dict(os.environ, TZ=self.args.sessmigrate_tz)
    return subprocess.Popen([self.args.sessmigrate, "copy", src, dst, "--ttl-from", "now", "--batch-size", "50",
                             "--max-rate", str(self.args.copy_rate), *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)

  def verify(self, src: str, dst: str) -> tuple[bool, str]:
    r, _ = self.sessmigrate("verify", src, dst)
    return r.returncode == 0 and "IDENTICAL" in r.stdout, run._tail(r.stdout + r.stderr, 3)

  def wait_for_progress(self, proc: subprocess.Popen) -> bool:
    """Waits until the cluster's primaries hold --fault-at of the --sessions as keys; true while the copy runs
    (a fault point by progress, not by time: the release binary copies several times faster than the debug one)."""
    at_least = self.args.sessions * self.args.fault_at
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
      if sum(int(self.cli(p, "DBSIZE") or "0") for p in self.primaries()) >= at_least:
        break
      time.sleep(0.01)
    return proc.poll() is None

  def check_kill_and_rerun(self, src: str) -> None:
    name = f"{CLUSTER_KIND}: kill -9 of a copy MySQL -> cluster mid-way, then the copy again: nothing lost"
    try:
      self.reset_cluster()
      dst = self.address(CLUSTER_KIND, "dst")
      proc = self.copy_in_background(src, dst)
      killed = self.wait_for_progress(proc)
      if killed:
        os.killpg(proc.pid, signal.SIGKILL)
      proc.wait(timeout=30)
      partial = sum(int(x) for p in self.primaries() for x in [self.cli(p, "DBSIZE") or "0"])
      r, _ = self.copy(src, dst)
      ok, detail = self.verify(src, dst)
      ok = ok and r.returncode == 0
      self.result(ok, name, (f"killed with {partial} keys written, " if killed else "finished before the kill, ")
                  + f"re-run exit {r.returncode}; {detail}")
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))

  def check_failover(self, src: str, how: str) -> None:
    name = f"{CLUSTER_KIND}: a primary {'fails over (CLUSTER FAILOVER on its replica)' if how == 'failover' else 'is killed and its replica takes over'} mid-copy; the copy finishes, nothing lost"
    try:
      self.reset_cluster()
      dst = self.address(CLUSTER_KIND, "dst")
      seed = self.cluster.rsplit(":", 1)[1]
      victim = next(p for p in self.primaries() if p != seed)
      replica = self.replica_of(victim)
      if replica is None:
        raise RuntimeError(f"no replica of {victim}")
      started = time.monotonic()
      proc = self.copy_in_background(src, dst, "--retries", "20")
      if not self.wait_for_progress(proc):
        out, _ = proc.communicate(timeout=30)
        keys = sum(int(self.cli(p, "DBSIZE") or "0") for p in self.primaries())
        raise RuntimeError(f"the copy ended (exit {proc.returncode}, {keys} keys in the cluster) before the fault "
                           f"({self.args.fault_at:.0%} of the sessions): lower --fault-at\n" + run._indent(run._tail(out, 6)))
      fault_after = time.monotonic() - started
      if how == "failover":
        self.cli(replica, "CLUSTER", "FAILOVER")
      else:
        pid = self.cli(victim, "INFO", "server").split("process_id:")[1].split()[0]
        os.kill(int(pid), signal.SIGKILL)
      out, _ = proc.communicate(timeout=600)
      took = time.monotonic() - started
      ok_copy = proc.returncode == 0
      if how == "kill":
        self.restart_node(victim)
      healthy = self.wait_cluster_ok()
      ok, detail = self.verify(src, dst)
      retried = "retry" in out.lower() or "retrying" in out.lower()
      self.result(ok and ok_copy and healthy, name,
                  f"fault at {fault_after:.1f} s of a {took:.1f} s copy, exit {proc.returncode}{' after retries' if retried else ''}; {detail}"
                  + ("" if ok_copy else "\n" + run._indent(run._tail(out, 6))))
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))

  def restart_node(self, port: str) -> None:
    """Starts the killed node again with its files (it rejoins as a replica of the new primary)."""
    base = os.environ.get("SESSMIGRATE_REDIS_CLUSTER_DIR", "")
    if not base:
      return
    node_dir = os.path.join(base, port)
    n = self.ports.index(port) + 1
    subprocess.run(["redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", node_dir, "--save", "",
                    "--appendonly", "no", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "2000", "--daemonize", "yes",
                    "--pidfile", os.path.join(os.path.dirname(base), f"redis-cluster-{n}.pid"),
                    "--logfile", os.path.join(node_dir, "redis.log")], check=True, stdin=subprocess.DEVNULL)

  def check_v014(self) -> None:
    v014_src, v014_dst = self.address(V014_KIND, "src"), self.address(V014_KIND, "dst")
    v015 = self.address("redis-adk-redis", "dst")
    try:
      for url in (v014_src, v014_dst, v015):
        self.tool("reset", "redis-adk-redis", url)
      self.adk("write", V014_KIND, v014_src, venv="adkredis014")
      ref = self.read(V014_KIND, v014_src, "v014-ref")
    except Exception as e:  # noqa: BLE001
      self.result(False, f"{V014_KIND}: google-adk-redis 0.1.4 writes and reads the dataset", str(e))
      return
    self.result(True, f"{V014_KIND}: google-adk-redis 0.1.4 writes and reads the dataset",
                f"{len(ref)} sessions, {sum(len(s['events']) for s in ref)} events")
    r, _ = self.sessmigrate("inspect", v014_src.split("?")[0])
    self.result("redis adk-redis-014" in r.stdout, f"{V014_KIND}: detected without ?layout=",
                run._tail(r.stdout + r.stderr, 8) if "redis adk-redis-014" not in r.stdout else "layout: redis adk-redis-014")
    for label, src, dst, kind in ((f"{V014_KIND} -> redis-adk-redis (0.1.5)", v014_src, v015, "redis-adk-redis"),
                                  (f"redis-adk-redis (0.1.5) -> {V014_KIND}", v015, v014_dst, V014_KIND)):
      r, took = self.copy(src, dst)
      problems = [] if r.returncode == 0 else [f"exit {r.returncode}: {run._tail(r.stdout + r.stderr, 4)}"]
      try:
        problems += compare.compare(ref, self.read(kind, dst, "read-" + kind))
      except Exception as e:  # noqa: BLE001
        problems.append(str(e))
      self.result(not problems, f"{label}: copy, ADK reads it back equal",
                  f"{took:.2f} s" if not problems else run._indent("\n".join(problems[:3])))

  def check_mixed(self) -> None:
    url = self.address(V014_KIND, "src")
    plain = url.split("?")[0]
    r = self.tool_redis(plain, "SET", "session:intruder",
                        '{"id":"intruder","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":1.0}')
    res, _ = self.sessmigrate("inspect", plain)
    out = res.stdout + res.stderr
    self.result(res.returncode != 0 and "mixed layouts" in out and "session:intruder" in out and "0.1.4" in out,
                f"{V014_KIND}: a database holding two layouts is refused, naming a key of each", run._tail(out, 2))
    self.tool_redis(plain, "DEL", "session:intruder")
    self.tool_redis(plain, "SADD", "app:zz:yy", "x")
    res, _ = self.copy(url, self.address("redis-adk-redis", "dst"))
    out = res.stdout + res.stderr
    self.result(res.returncode != 0 and "app:zz:yy" in out and "found a set" in out,
                f"{V014_KIND}: a set where 0.1.4 keeps strings is named with both types", run._tail(out, 2))
    del r

  def tool_redis(self, url: str, *argv: str) -> str:
    host_port, _, db = url.split("://", 1)[1].partition("/")
    host, _, port = host_port.rpartition(":")
    r = subprocess.run(["redis-cli", "-h", host, "-p", port, "-n", db or "0", *argv], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    return r.stdout.strip()

  def run_all(self) -> int:
    if not self.cluster or len(self.ports) != 6:
      print("SESSMIGRATE_REDIS_CLUSTER_URL / _PORTS are not set (start the servers with SESSMIGRATE_SERVERS_CLUSTER=1)")
      print("0 passed, 1 failed")
      return 1
    t0 = time.monotonic()
    self.check_cluster_round_trip()
    try:
      src = self.generated_source(self.args.sessions)
      self.check_kill_and_rerun(src)
      self.check_failover(src, "failover")
      self.check_failover(src, "kill")
    except Exception as e:  # noqa: BLE001
      self.result(False, "cluster fault cases", str(e))
    self.check_v014()
    self.check_mixed()
    print(f"(cluster and layouts suite: {time.monotonic() - t0:.0f} s)")
    print(f"{self.passed} passed, {self.failed} failed")
    return 0 if self.failed == 0 else 1


def main() -> int:
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--sessmigrate", required=True)
  p.add_argument("--dataset", default="nasty")
  p.add_argument("--redis-db-base", type=int, default=60, help="Redis DBs used: BASE..BASE+2 (default 60)")
  p.add_argument("--sessions", type=int, default=3000, help="sessions of the fault cases")
  p.add_argument("--fault-at", type=float, default=0.2,
                 help="the fault comes once the cluster holds this share of the sessions as keys (default 0.2)")
  p.add_argument("--copy-rate", type=int, default=6000,
                 help="events/s the interrupted copies are held to (--max-rate; default 6000: about 2 s for 3,000 sessions)")
  p.add_argument("--cache")
  p.add_argument("--work")
  p.add_argument("--keep", action="store_true")
  p.add_argument("--sessmigrate-tz", default="Asia/Kolkata")
  p.add_argument("--copy-timeout", type=float, default=600)
  args = p.parse_args()
  for name in ("redis_url", "mysql_url"):
    setattr(args, name, None)
  args.mysql_db_prefix = "smt_cluster"
  return ClusterSuite(args).run_all()


if __name__ == "__main__":
  sys.exit(main())
