"""A fake MySQL server that asks every client for its password in clear text (`mysql_clear_password`, as
CloudSQL IAM database authentication does) and records what it got and whether the connection was TLS.

It speaks just enough of the protocol: the v10 handshake (offering TLS when given a certificate), the
optional SSLRequest and TLS upgrade, the HandshakeResponse, an AuthSwitchRequest to mysql_clear_password,
the client's answer, then OK, and an error for every statement after that (the client gives up).
Listens on 127.0.0.1 (a free port) or on a Unix socket; serves connections one at a time on a thread."""
import os, socket, ssl, struct, threading

CLIENT_PROTOCOL_41, CLIENT_SSL, CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH = 0x200, 0x800, 0x8000, 0x80000


def _packet(sequence, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload


def _read_exactly(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_packet(connection):
    header = _read_exactly(connection, 4)
    if header is None:
        return None, None
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], _read_exactly(connection, length)


class FakeMySQL:
    """`received` lists (tls, password or None) per connection; `port` or `socket_path` is where it listens."""

    def __init__(self, certificate=None, key=None, socket_path=None):
        self.received = []
        self.tls = None
        if certificate:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(certificate, key)
        self.socket_path = socket_path
        if socket_path:
            self.listener = socket.socket(socket.AF_UNIX)
            self.listener.bind(socket_path)
        else:
            self.listener = socket.socket()
            self.listener.bind(("127.0.0.1", 0))
        self.port = None if socket_path else self.listener.getsockname()[1]
        self.listener.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.listener.close()
        if self.socket_path and os.path.exists(self.socket_path):
            os.remove(self.socket_path)

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            try:
                self._session(connection)
            except (OSError, ssl.SSLError):
                pass
            finally:
                connection.close()

    def _session(self, connection):
        connection.settimeout(10)
        capabilities = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | 0x8 | 0x1 | (CLIENT_SSL if self.tls else 0)
        scramble = b"0123456789abcdefghij"
        greeting = (bytes([10]) + b"5.7.99-fake\0" + struct.pack("<I", 7) + scramble[:8] + b"\0"
                    + struct.pack("<H", capabilities & 0xFFFF) + bytes([45]) + struct.pack("<H", 2)
                    + struct.pack("<H", capabilities >> 16) + bytes([21]) + b"\0" * 10 + scramble[8:] + b"\0"
                    + b"mysql_native_password\0")
        connection.sendall(_packet(0, greeting))
        sequence, response = _read_packet(connection)
        encrypted = False
        if response is not None and len(response) == 32 and struct.unpack("<I", response[:4])[0] & CLIENT_SSL:
            connection = self.tls.wrap_socket(connection, server_side=True)
            encrypted = True
            sequence, response = _read_packet(connection)
        if response is None:
            self.received.append((encrypted, None))
            return
        connection.sendall(_packet(sequence + 1, b"\xfemysql_clear_password\0"))
        sequence, answer = _read_packet(connection)
        password = answer.rstrip(b"\0").decode("utf-8", "replace") if answer is not None else None
        self.received.append((encrypted, password))
        if answer is None:
            return
        connection.sendall(_packet(sequence + 1, b"\x00\x00\x00\x02\x00\x00\x00"))
        while True:
            sequence, statement = _read_packet(connection)
            if statement is None:
                return
            connection.sendall(_packet(sequence + 1, b"\xff" + struct.pack("<H", 1045) + b"#28000the fake server stops here"))
