"""Password commands (`?password-command=`, `--password-command`): every subcommand with the secret password
printed by a command, failures, and MySQL's clear-text authentication against a fake server. The command's
output is the secret password, so the suite's final search covers it; the command line carries a marker
argument that must not be shown either (addresses show the first word only)."""
import os, shutil, tempfile, urllib.parse
from fake_mysql import FakeMySQL
from passwords import PASSWORD

MARKER = "CMDARG-5d2e91"


def setup(h, a):
    """The token script (reads the password file: the command line itself holds no secret) and addresses."""
    script = h.write("token.sh", f"#!/bin/sh\nhead -n 1 '{a['pwfile']}'\n", mode=0o700)
    command = f"sh {script} --marker {MARKER}"
    encoded = urllib.parse.quote(command, safe="")
    return dict(a, command=command, command_param=f"password-command={encoded}", script=script,
                src_cmd=f"{a['src_bare']}?password-command={encoded}",
                redis_cmd=f"{a['redis_bare']}&password-command={encoded}")


def every_way(h, a):
    c = setup(h, a)
    h.run("command: inspect mysql (?password-command=)", ["inspect", c["src_cmd"]], expect=0, contains="password-command=sh…")
    h.run("command: inspect redis (--password-command)", ["inspect", a["redis_bare"], "--password-command", c["command"]], expect=0,
          contains="password-command=sh…")
    h.run("command: copy mysql -> redis (both in the addresses)", ["copy", c["src_cmd"], c["redis_cmd"], "--ttl-from", "now"], expect=0)
    h.run("command: diff json", ["diff", c["src_cmd"], c["redis_cmd"], "--format", "json"], expect=0)
    h.run("command: verify (--password-command)", ["verify", a["src_bare"], a["redis_encoded"], "--password-command", c["command"]], expect=0)
    h.run("command: snapshot", ["snapshot", c["src_cmd"], "snap-cmd.db"], expect=0)
    h.run("command: restore (--password-command)", ["restore", "snap-cmd.db", a["redis_bare"], "--password-command", c["command"]], expect=0)
    journal = "run-cmd.journal"
    extra = ["--var", f"source={c['src_cmd']}", "--var", f"target={c['redis_cmd']}", "--var", "snapshot=./secrets-runbook-cmd.db"]
    h.run("command: run (stops at the gate)", ["run", a["runbook"], "--journal", journal, "--no-wait"] + extra, expect=3)
    h.run("command: continue", ["continue", "--journal", journal], expect=0)
    h.run("command: resume", ["resume", "--journal", journal, "--no-wait"] + extra, expect=0)
    # status shows steps, not addresses (the password search covers its output); the journal's log names
    # the stores with the command's first word only.
    h.run("command: status", ["status", "--journal", journal], expect=0)
    h.run("command: log shows the first word", ["log", "--journal", journal], expect=0, contains="password-command=sh…")
    h.run("command: log json", ["log", "--journal", journal, "--format", "json"], expect=0)
    h.run("command: generate", ["generate", c["redis_cmd"], "--sessions", "2"], expect=0)
    failures(h, c)
    clear_text(h, c)


def failures(h, c):
    failing = h.write("fail.sh", f"#!/bin/sh\nhead -n 1 '{c['pwfile']}'\nexit 3\n", mode=0o700)
    wrong = h.write("wrong.sh", "#!/bin/sh\necho Pw-wrong-7c1f9e-SECRET\n", mode=0o700)
    for label, command, status, says in [
        ("exits 3 after printing the password", f"sh {failing}", 2, "password command 'sh' exited with status 3"),
        ("prints nothing", "true", 2, "password command 'true' printed nothing"),
        ("prints a wrong password", f"sh {wrong}", 2, "authentication failed"),
    ]:
        h.run(f"command {label}", ["inspect", c["src_bare"], "--password-command", command], expect=status, contains=says)
        h.run(f"command {label} (redis)", ["inspect", c["redis_bare"] + "&password-command=" + urllib.parse.quote(command, safe="")],
              expect=status, contains=says)
    h.run("command: both --password-file and --password-command", ["inspect", c["src_bare"], "--password-file", c["pwfile"],
                                                                    "--password-command", c["command"]], expect=64, contains="not both")
    h.run("command: and a password in the address", ["inspect", c["src"] + "?" + c["command_param"]], expect=64, contains="give one")


def clear_text(h, c):
    """CloudSQL IAM database authentication sends the token in clear text: only over a Unix socket or with
    ssl-mode=verify-identity. Anything else is refused before the password leaves, even when the server
    offers TLS (ssl-mode=required and verify-ca log in before they know whether it does)."""
    tls_dir = os.path.dirname(h.tls_ca) if h.tls_ca else None
    directory = tempfile.mkdtemp(prefix="smt-fake-", dir="/tmp")
    plain = FakeMySQL()
    served = [plain]
    try:
        base = f"mysql://iam-user@127.0.0.1:{plain.port}/db?{c['command_param']}"
        for mode in ["", f"&ssl-mode=required", f"&ssl-mode=verify-ca&ssl-ca={h.tls_ca}" if h.tls_ca else "&ssl-mode=disabled"]:
            h.run(f"clear text refused over plaintext TCP{mode or ' (default ssl-mode)'}", ["inspect", base + mode], expect=2,
                  contains="asks for the password in clear text")
        h.check(plain.received and all(password is None for _, password in plain.received),
                "the plaintext server never received the password", repr([(t, p is not None) for t, p in plain.received]))
        if tls_dir:
            secure = FakeMySQL(f"{tls_dir}/server-cert.pem", f"{tls_dir}/server-key.pem")
            served.append(secure)
            base = f"mysql://iam-user@127.0.0.1:{secure.port}/db?{c['command_param']}"
            h.run("clear text refused with ssl-mode=required on a TLS server", ["inspect", base + "&ssl-mode=required"], expect=2,
                  contains="asks for the password in clear text")
            h.run("clear text sent with ssl-mode=verify-identity", ["inspect", base + f"&ssl-mode=verify-identity&ssl-ca={h.tls_ca}"],
                  expect=2, contains="the fake server stops here")
            h.check((True, PASSWORD) in secure.received and (False, PASSWORD) not in secure.received,
                    "verify-identity: the token went over TLS only", repr([(t, p is not None) for t, p in secure.received]))
        local = FakeMySQL(socket_path=f"{directory}/mysqld.sock")
        served.append(local)
        h.run("clear text sent over a Unix socket", ["inspect", f"mysql://iam-user@localhost/db?socket={directory}/mysqld.sock&{c['command_param']}"],
              expect=2, contains="the fake server stops here")
        h.check((False, PASSWORD) in local.received, "the Unix socket server received the token")
    finally:
        for server in served:
            server.close()
        shutil.rmtree(directory, ignore_errors=True)


def search_marker(h):
    """The command line's marker argument is shown nowhere (addresses show the command's first word)."""
    found = [label for label, text in h.outputs if MARKER in text]
    h.check(not found, f"the password command's arguments in none of {len(h.outputs)} outputs", ", ".join(found[:5]))
    leaks = [os.path.relpath(path, h.work) for path, data in h.files(set()) if MARKER.encode() in data]
    h.check(not leaks, "the password command's arguments in no file written (journals, snapshots)", ", ".join(leaks))
