import DriverCore
import SessionModel

/// An error reported by hiredis, by the Redis server, or by this driver's use of them.
///
/// `description` names the command (`GET`, `EXEC`, `connect 127.0.0.1:6379`), never its
/// arguments, and never a password: arguments can hold session payloads, and the password is
/// scrubbed from server messages as a second line of defence (Redis never echoes it).
public struct RedisError: DriverError {
    /// What kind of failure this is, for callers that do not care about Redis.
    public var code: DriverErrorCode
    /// hiredis' context error (`REDIS_ERR_IO` = 1, `REDIS_ERR_EOF` = 3, …); 0 for server replies
    /// and errors of this driver.
    public var hiredisError: Int32
    /// The first word of a server error reply (`WRONGPASS`, `NOAUTH`, `WRONGTYPE`, `ERR`, …).
    public var serverErrorPrefix: String?
    /// What went wrong, free of secrets and payloads.
    public var message: String
    /// The command name or the connection step, e.g. `AUTH`, `SELECT`, `connect 127.0.0.1:6390`.
    public var context: String?

    /// Creates an error; `message` must already be free of secrets and payloads.
    public init(
        code: DriverErrorCode, hiredisError: Int32 = 0, serverErrorPrefix: String? = nil,
        message: String, context: String? = nil
    ) {
        self.code = code
        self.hiredisError = hiredisError
        self.serverErrorPrefix = serverErrorPrefix
        self.message = message
        self.context = context
    }

    public var description: String {
        var text = "redis: \(code): \(Printable.name(message, limit: Printable.messageLimit))"
        if let context { text += " during \(context)" }
        return text
    }

    public var debugDescription: String { description }

    /// `LOADING`, `BUSY`, `TRYAGAIN`, `MASTERDOWN` replies.
    public var isServerNotReady: Bool { code == .serverNotReady || serverErrorPrefix.map(Self.notReadyPrefixes.contains) == true }

    /// An error for a server error reply such as `WRONGPASS invalid username-password pair`.
    static func server(_ reply: String, context: String?, secret: String?) -> RedisError {
        let prefix = reply.prefix { $0 != " " }
        return RedisError(
            code: code(forServerPrefix: String(prefix), message: reply),
            serverErrorPrefix: String(prefix),
            message: redact(reply, secret: secret),
            context: context
        )
    }

    /// Error prefixes of a server that is there but not ready (loading its data, running a long
    /// script, failing over): transient faults, never a verdict on the command or the data.
    public static let notReadyPrefixes: Set<String> = ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN"]

    /// Maps the first word of a server error onto the common codes.
    static func code(forServerPrefix prefix: String, message: String) -> DriverErrorCode {
        switch prefix {
        case "WRONGPASS", "NOAUTH", "NOPERM":
            return .authentication
        case "MOVED", "ASK", "CLUSTERDOWN", "CROSSSLOT":
            return .unsupported
        case _ where notReadyPrefixes.contains(prefix):
            return .serverNotReady
        default:
            // Redis < 6 says `ERR invalid password`; 6+ without a password configured says
            // `ERR AUTH <password> called without any password configured for the default user`.
            let lower = message.lowercased()
            if lower.contains("invalid password") || lower.contains("without any password configured")
                || lower.contains("invalid username-password")
            {
                return .authentication
            }
            return .query
        }
    }

    /// Replaces `secret` wherever it appears. Secrets shorter than 4 characters are left alone:
    /// they would only match by coincidence and garble the message.
    static func redact(_ message: String, secret: String?) -> String {
        guard let secret, secret.count >= 4 else { return message }
        return message.replacing(secret, with: "***")
    }
}
