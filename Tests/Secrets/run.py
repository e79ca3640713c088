#!/usr/bin/env python3
"""Secrets and safety suite (scripts/test runs it): the password search (JSON logs and runbook hooks
included), password commands, TLS (MySQL, native Redis TLS, clear-text authentication), same-store refusal,
foreign targets. Prints PASS/FAIL lines and a final `N passed, N failed`.

  python3 Tests/Secrets/run.py --sessmigrate .build/debug/sessmigrate [--redis-db-base 60] [--keep]

Needs SESSMIGRATE_REDIS_URL, SESSMIGRATE_MYSQL_URL and SESSMIGRATE_MYSQL_ROOT_SOCKET (root over the
socket creates the users); SESSMIGRATE_MYSQL_TLS_CA / _OTHER_CA for the TLS checks (scripts/lib/servers.sh
with SESSMIGRATE_SERVERS_TLS=1), and SESSMIGRATE_REDIS_TLS_URL, _MTLS_URL and SESSMIGRATE_TLS_DIR for the
Redis TLS checks. Uses Redis databases BASE..BASE+3 (and BASE, BASE+1 on the TLS server) and MySQL
databases smt_secret_*.
"""
import argparse, os, shutil, sys, tempfile, traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logs, password_command, passwords, redis_tls, safety
from harness import Harness

parser = argparse.ArgumentParser()
parser.add_argument("--sessmigrate", required=True)
parser.add_argument("--redis-db-base", type=int, default=60)
parser.add_argument("--keep", action="store_true", help="keep the work directory (it holds password files)")
args = parser.parse_args()

work = tempfile.mkdtemp(prefix="smt-secrets-")
h = Harness(os.path.abspath(args.sessmigrate), work)
try:
    addresses = passwords.setup(h, args.redis_db_base)
    for part in [lambda: passwords.every_way(h, addresses), lambda: passwords.runbooks(h, addresses),
                 lambda: logs.logs(h, addresses), lambda: logs.hooks(h, addresses),
                 lambda: passwords.failures(h, addresses), lambda: safety.tls(h, addresses),
                 lambda: redis_tls.checks(h, addresses, args.redis_db_base), lambda: password_command.every_way(h, addresses),
                 lambda: safety.same_store(h, addresses, args.redis_db_base),
                 lambda: safety.foreign_targets(h, addresses, args.redis_db_base)]:
        try:
            part()
        except Exception:
            h.check(False, "suite part crashed", traceback.format_exc()[-1500:])
    inputs = {"pw.txt", "pw-open.txt", "pw-bad.txt", "bot.env", "bad.env", "wrong.sh"}
    passwords.search(h, inputs)
    password_command.search_marker(h)
finally:
    try:
        passwords.cleanup(h, args.redis_db_base)
        redis_tls.cleanup(h, args.redis_db_base)
    except Exception as error:
        print(f"cleanup failed: {error}")
    if args.keep:
        print(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
print(f"{h.passed} passed, {h.failed} failed")
sys.exit(1 if h.failed else 0)
