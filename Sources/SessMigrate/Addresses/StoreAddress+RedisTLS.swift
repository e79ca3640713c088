import Foundation
import RedisDriver

extension StoreAddress {
    /// redis-py's TLS parameters (`_` or `-`), read by `redis.Redis.from_url` from the bot's `REDIS_URL`.
    static let redisTLSParameterNames: Set<String> = ["ssl-ca-certs", "ssl-certfile", "ssl-keyfile", "ssl-check-hostname", "ssl-cert-reqs"]

    /// The TLS settings of a `rediss://` address, read as redis-py 5 reads them, so the bot's
    /// `REDIS_URL` means the same here; `nil` for `redis://`.
    ///
    /// Differences, all on the safe side: the name is checked unless `ssl_check_hostname` is false
    /// (redis-py 5 defaults to not checking); `ssl_cert_reqs=none` (no verification) is refused;
    /// values redis-py would silently take as true (`ssl_check_hostname=off`) are refused; the CA
    /// file alone is trusted (redis-py adds it to the system's CAs).
    static func parseRedisTLS(_ parts: URLParts) throws(AddressError) -> RedisTLSOptions? {
        let value = { (name: String) in parts.query.last { canonicalParameter($0.name) == name }?.value }
        guard parts.scheme == "rediss" else {
            if let name = parts.query.first(where: { redisTLSParameterNames.contains(canonicalParameter($0.name)) })?.name {
                throw AddressError("\(name) is a TLS parameter, but this is a redis:// (plaintext) address; use rediss://")
            }
            return nil
        }
        var tls = RedisTLSOptions(caFile: value("ssl-ca-certs"), certificateFile: value("ssl-certfile"), keyFile: value("ssl-keyfile"))
        if let text = value("ssl-check-hostname") {
            switch text.uppercased() {
            case "1", "T", "TRUE", "Y", "YES": tls.checkHostname = true
            case "0", "F", "FALSE", "N", "NO": tls.checkHostname = false
            default: throw AddressError("ssl_check_hostname '\(text)' is not true or false")
            }
        }
        if let text = value("ssl-cert-reqs") {
            switch text.lowercased() {
            case "required", "optional":
                break  // A client always gets the server's certificate: optional verifies it as required does.
            case "none":
                throw AddressError(
                    "ssl_cert_reqs=none turns off certificate verification, which sessmigrate does not do; remove it and give "
                        + "ssl_ca_certs=PATH (Memorystore: the instance's server CA)")
            default:
                throw AddressError("ssl_cert_reqs '\(text)' is not one of required, optional, none")
            }
        }
        if let problem = tls.problem { throw AddressError("redis address: \(problem)") }
        for (name, path) in [("ssl_ca_certs", tls.caFile), ("ssl_certfile", tls.certificateFile), ("ssl_keyfile", tls.keyFile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw AddressError("redis address: \(name) file \(path) cannot be read")
            }
        }
        return tls
    }
}

extension PasswordCommand {
    /// The `?password-command=` of an address, if any; an empty one is refused.
    static func parameter(of parts: URLParts) throws(AddressError) -> PasswordCommand? {
        guard let text = parts.query.last(where: { StoreAddress.canonicalParameter($0.name) == "password-command" })?.value else { return nil }
        guard !text.trimmed(" \t").isEmpty else { throw AddressError("\(parts.scheme) address has an empty password-command") }
        return PasswordCommand(text)
    }
}

extension PasswordCommand {
    /// `text` with the value of every `password-command=` (or `password_command=`) cut to the
    /// command's first word, as addresses show it: for text that does not parse as an address.
    static func redactingCommands(in text: String) -> String {
        text.replacing(/(password[-_]command=)([^&\s'"]*)/) { match in
            let decoded = (try? URLParts.decode(match.output.2, what: "password-command")) ?? ""
            return match.output.1 + PasswordCommand(decoded).description
        }
    }
}
