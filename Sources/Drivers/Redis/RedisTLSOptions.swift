/// TLS for a Redis connection (`rediss://`): whom to trust, which client certificate to show, and
/// whether the server's certificate must name the host connected to.
///
/// The certificate chain is always verified (there is no option to turn that off). What is
/// checked of the name: a host name against the certificate's DNS names (with SNI sent); an IP
/// address (Memorystore is reached by IP) against the certificate's IP addresses, never its DNS
/// names. `checkHostname = false` skips the name and keeps the chain check.
public struct RedisTLSOptions: Sendable, Hashable {
    /// PEM file of the certificate authorities to trust (redis-py's `ssl_ca_certs`); only these are
    /// trusted. `nil`: the system's CA store (`/etc/ssl/certs`), as redis-py does.
    public var caFile: String?
    /// PEM client certificate (`ssl_certfile`), for servers started with `tls-auth-clients yes`.
    public var certificateFile: String?
    /// PEM key of the client certificate (`ssl_keyfile`); an encrypted key is refused.
    public var keyFile: String?
    /// Check the server's name (`ssl_check_hostname`); the chain is verified either way.
    public var checkHostname: Bool

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, checkHostname: Bool = true) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.checkHostname = checkHostname
    }

    /// The problem with this combination, if any.
    public var problem: String? {
        (certificateFile == nil) != (keyFile == nil) ? "ssl_certfile and ssl_keyfile go together" : nil
    }

    /// What is verified, for `inspect`: the trusted CAs and whether the name is checked.
    func verificationSummary(host: String) -> String {
        let trust = caFile.map { "certificate verified against \($0)" } ?? "certificate verified against the system's CA store"
        guard checkHostname else {
            return "\(trust); host name NOT checked (ssl_check_hostname=false: any certificate from these CAs is accepted)"
        }
        let kind = RedisTLSSession.isIPAddress(host) ? "IP address" : "host name"
        return "\(trust); \(kind) \(host) checked against it"
    }
}
