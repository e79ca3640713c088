"""Native Redis TLS through the CLI, against the TLS redis-servers of scripts/lib/servers.sh (certificate for
IP 127.0.0.1 only, signed by the throwaway CA; one more that requires client certificates): what `inspect`
says, every refusal with its reason, and a Memorystore-style rotation in the middle of a copy (the server
certificate replaced, the IAM token replaced, every connection dropped): the copy reconnects, fetches a
fresh token, verifies the new certificate and finishes. The secret user and password are used throughout,
so the password search covers these outputs too."""
import os, subprocess, time, urllib.parse
from passwords import PASSWORD, USER

ROTATING_USER = "smt_rotating"


def checks(h, a, db_base):
    if not (h.tls_dir and h.redis_tls_port and h.redis_mtls_port):
        print("SKIP redis TLS: SESSMIGRATE_REDIS_TLS_URL / _MTLS_URL / SESSMIGRATE_TLS_DIR not set (scripts/test sets them)")
        return
    ca, other = f"{h.tls_dir}/ca.pem", f"{h.tls_dir}/other-ca.pem"
    h.redis_tls("ACL", "SETUSER", USER, "reset", "on", ">" + PASSWORD, "~*", "+@all")
    h.redis_tls("FLUSHDB", db=db_base)
    encoded = urllib.parse.quote(PASSWORD, safe="")
    port = h.redis_tls_port
    base = f"rediss://{USER}:{encoded}@127.0.0.1:{port}/{db_base}?layout=community&ssl_ca_certs={ca}"
    h.run("redis TLS: copy mysql -> rediss", ["copy", a["src"], base, "--ttl-from", "now"], expect=0)
    h.run("redis TLS: inspect says what was verified", ["inspect", base], expect=0,
          contains=f"certificate verified against {ca}; IP address 127.0.0.1 checked against it")
    h.run("redis TLS: verify", ["verify", a["src"], base], expect=0)
    h.run("redis TLS: another CA", ["inspect", base.replace(ca, other)], expect=2,
          contains=f"certificate verification of 127.0.0.1:{port} failed")
    h.run("redis TLS: no CA (the system's)", ["inspect", base.replace(f"&ssl_ca_certs={ca}", "")], expect=2, contains="no ssl_ca_certs was given")
    h.run("redis TLS: a name the certificate lacks", ["inspect", base.replace("@127.0.0.1:", "@localhost:")], expect=2,
          contains="does not name localhost")
    h.run("redis TLS: ssl_check_hostname=false keeps the chain check", ["inspect", base.replace("@127.0.0.1:", "@localhost:")
                                                                       + "&ssl_check_hostname=false"], expect=0, contains="host name NOT checked")
    h.run("redis TLS: ... and still refuses another CA", ["inspect", base.replace("@127.0.0.1:", "@localhost:").replace(ca, other)
                                                         + "&ssl_check_hostname=false"], expect=2, contains="certificate verification")
    plaintext = f"redis://{USER}:{encoded}@127.0.0.1:{port}/{db_base}"
    h.run("redis TLS: a plaintext client on the TLS port", ["inspect", plaintext], expect=2, contains="use rediss://")
    h.run("redis TLS: TLS to the plaintext port", ["inspect", f"rediss://{USER}:{encoded}@{h.redis_host}:{h.redis_port}/{db_base}?ssl_ca_certs={ca}"],
          expect=2, contains="use redis://")
    h.run("redis TLS: ssl_cert_reqs=none", ["inspect", base + "&ssl_cert_reqs=none"], expect=64, contains="ssl_cert_reqs=none")
    mtls = f"rediss://127.0.0.1:{h.redis_mtls_port}/{db_base}?ssl_ca_certs={ca}"
    h.run("redis mTLS: without a client certificate", ["inspect", mtls], expect=2, contains="client certificate")
    h.run("redis mTLS: with the client certificate", ["inspect", f"{mtls}&ssl_certfile={h.tls_dir}/client-cert.pem"
                                                     f"&ssl_keyfile={h.tls_dir}/client-key.pem"], expect=0, contains="connection:    TLS (")
    rotation(h, a, db_base + 1, ca)


def rotation(h, a, db, ca):
    """A copy into TLS Redis authenticating with a password command; in the middle, the server certificate
    and the user's password change and every connection is dropped (as Memorystore's rotation does)."""
    counter = h.write("token-counter", "1\n")
    script = h.write("rotating-token.sh", f"#!/bin/sh\nprintf '%s-%s\\n' \"$(head -n 1 '{a['pwfile']}')\" \"$(cat '{counter}')\"\n", mode=0o700)
    h.redis_tls("ACL", "SETUSER", ROTATING_USER, "reset", "on", f">{PASSWORD}-1", "~*", "+@all")
    h.redis_tls("FLUSHDB", db=db)
    source = os.path.join(h.work, "rotation-source.db")
    h.run("rotation: generate the source", ["generate", source, "--sessions", "4000", "--events", "2", "--seed", "3"], expect=0)
    command = urllib.parse.quote(f"sh {script}", safe="")
    target = f"rediss://{ROTATING_USER}@127.0.0.1:{h.redis_tls_port}/{db}?layout=community&ssl_ca_certs={ca}&password-command={command}"
    copy = subprocess.Popen([h.binary, "copy", source, target, "--ttl-from", "now", "--batch-size", "10"], cwd=h.work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rotated = False
    try:
        deadline = time.time() + 120
        while copy.poll() is None and time.time() < deadline:
            if int(h.redis_tls("DBSIZE", db=db).strip() or 0) >= 400:
                h.redis_tls("CONFIG", "SET", "tls-cert-file", f"{h.tls_dir}/server2-cert.pem", "tls-key-file", f"{h.tls_dir}/server2-key.pem")
                h.redis_tls("ACL", "SETUSER", ROTATING_USER, "resetpass", f">{PASSWORD}-2")
                with open(counter, "w") as file:
                    file.write("2\n")
                h.redis_tls("CLIENT", "KILL", "USER", ROTATING_USER)
                rotated = True
                break
            time.sleep(0.02)
        stdout, stderr = copy.communicate(timeout=300)
    finally:
        if copy.poll() is None:
            copy.kill()
        h.redis_tls("CONFIG", "SET", "tls-cert-file", f"{h.tls_dir}/server-cert.pem", "tls-key-file", f"{h.tls_dir}/server-key.pem")
    h.outputs += [("rotation copy stdout", stdout), ("rotation copy stderr", stderr)]
    h.check(rotated, "rotation: happened in the middle of the copy", f"the copy ended first: {stderr[-300:]}")
    h.check(copy.returncode == 0 and "transient fault" in stderr, "rotation: the copy reconnected (transient fault) and finished",
            f"exit {copy.returncode}; {stderr[-500:]}")
    h.run("rotation: the target equals the source", ["verify", source, target], expect=0)
    h.redis_tls("ACL", "DELUSER", ROTATING_USER)


def cleanup(h, db_base):
    if h.tls_dir and h.redis_tls_port:
        h.redis_tls("ACL", "DELUSER", USER, ROTATING_USER)
        for db in (db_base, db_base + 1):
            h.redis_tls("FLUSHDB", db=db)
