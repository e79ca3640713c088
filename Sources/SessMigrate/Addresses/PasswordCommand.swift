import DriverCore
import Foundation

/// A command that prints a password (`?password-command=CMD`, `--password-command CMD`), run again
/// for every new connection: IAM access tokens (Memorystore Cluster, CloudSQL IAM database
/// authentication) expire after an hour, so a long copy, and each reconnect after a transient fault,
/// needs a fresh one (`gcloud auth print-access-token`).
///
/// The command runs through `/bin/sh -c` with standard input from `/dev/null`, standard error
/// passed through (its diagnostics), in a process group of its own that is killed after
/// ``timeoutSeconds``. Its standard output is the password: one trailing line break is removed,
/// and it must then be a single non-empty line of UTF-8. The output is never shown anywhere;
/// errors name the command's first word only (``description``), as addresses do, because the rest of
/// the command line may hold a secret too.
public struct PasswordCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command line as given.
    public var command: String

    /// Seconds the command may take.
    public static let timeoutSeconds: Double = 30
    /// Larger outputs are refused (an access token is about 2 KiB).
    static let maximumOutput = 64 << 10

    public init(_ command: String) {
        self.command = command
    }

    /// The program: the first word of the command when it looks like one (a name or path), else `***`.
    public var programName: String {
        let word = command.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._/+-".unicodeScalars.contains($0) }
        return plain ? word : "***"
    }

    /// What addresses and errors show: the first word, then `…` when more follows (`gcloud…`).
    public var description: String {
        let words = command.split(whereSeparator: \.isWhitespace)
        return programName + (words.count > 1 ? "…" : "")
    }

    /// Runs the command and returns the password it printed.
    ///
    /// - Throws: ``PasswordCommandError`` naming ``programName``: the command could not start,
    ///   exited with a non-zero status or a signal, printed nothing, more than one line, not UTF-8 or
    ///   too much (`authentication`, not retried), or did not finish in time (`timeout`, retried as
    ///   a transient fault).
    public func run(timeout: Double = PasswordCommand.timeoutSeconds) throws(PasswordCommandError) -> String {
        let output = try PasswordCommandProcess.run(command, name: programName, timeout: timeout)
        guard var text = String(validating: output, as: UTF8.self) else { throw failure("printed something that is not UTF-8 text") }
        if text.hasSuffix("\r\n") { text.removeLast(1) } else if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty else { throw failure("printed nothing") }
        guard !text.contains(where: \.isNewline) else { throw failure("printed more than one line; it must print the password alone") }
        return text
    }

    private func failure(_ what: String) -> PasswordCommandError {
        PasswordCommandError(code: .authentication, message: "password command '\(programName)' \(what)")
    }
}

/// A password command that failed; the message names the command's first word, never its output.
public struct PasswordCommandError: DriverError, Equatable {
    public var code: DriverErrorCode
    public var message: String

    public var description: String { message }
    public var debugDescription: String { message }
}

extension MySQLAddress {
    /// The password to log in with now: the one given, or a fresh one from the password command.
    public func currentPassword() throws(PasswordCommandError) -> String? {
        if let password { return password }
        return try passwordCommand?.run()
    }
}

extension RedisAddress {
    /// The password to log in with now: the one given, or a fresh one from the password command.
    public func currentPassword() throws(PasswordCommandError) -> String? {
        if let password { return password }
        return try passwordCommand?.run()
    }
}
