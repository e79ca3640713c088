import Foundation

/// Passwords kept in files (`?password-file=PATH` on an address, `--password-file PATH`), so they
/// appear neither on command lines (visible in `ps`) nor in shell history.
///
/// The file holds the password alone; one trailing line break (`\n` or `\r\n`) is removed, nothing
/// else: spaces are part of the password. Errors name the path, never the content.
public enum PasswordFile {
    /// Larger files are refused: they are not password files (a wrong path, a whole `.env`).
    static let maximumSize = 4096

    /// Reads the password in `path`.
    ///
    /// - Parameter warn: told (once, without the secret) when the file is readable by every user.
    /// - Throws: ``AddressError`` naming `path` when the file cannot be read, is empty, too large,
    ///   not UTF-8, or holds more than one line.
    public static func read(_ path: String, warn: (String) -> Void = { _ in }) throws(AddressError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AddressError("cannot read password file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw AddressError("password file \(path) is not a regular file") }
        guard info.st_size <= maximumSize else {
            throw AddressError("password file \(path) is \(info.st_size) bytes; a password file holds the password alone")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AddressError("cannot read password file \(path): \(String(cString: strerror(errno)))")
        }
        guard var text = String(data: data, encoding: .utf8) else { throw AddressError("password file \(path) is not UTF-8 text") }
        if text.hasSuffix("\r\n") { text.removeLast(1) } else if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty else { throw AddressError("password file \(path) is empty") }
        guard !text.contains(where: \.isNewline) else {
            throw AddressError("password file \(path) holds more than one line; it must hold the password alone")
        }
        if info.st_mode & S_IROTH != 0 {
            warn("password file \(path) is readable by every user (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        return text
    }

    /// Gives the password of `--password-file` to the one address that needs it.
    ///
    /// The taker is the only address naming a user without a password (a MySQL address without
    /// one, `cloudsql` without `CLOUDSQL_PASSWORD`, `redis://USER@…`); when there is none, the only
    /// Redis address without a password. Anything else is ambiguous and refused: put
    /// `?password-file=` on the address meant instead.
    public static func apply(_ password: String, file path: String, to addresses: [StoreAddress]) throws(AddressError) -> [StoreAddress] {
        let taker = try passwordTaker(in: addresses, option: "--password-file \(path)", parameter: "?password-file=PATH")
        var result = addresses
        result[taker] = addresses[taker].withPassword(password, fromFile: path)
        return result
    }

    /// The index of the one address that takes the password of `option` (see ``apply(_:file:to:)``).
    static func passwordTaker(in addresses: [StoreAddress], option: String, parameter: String) throws(AddressError) -> Int {
        let named = addresses.indices.filter { addresses[$0].lacksPassword(namingUser: true) }
        let anonymous = addresses.indices.filter { addresses[$0].lacksPassword(namingUser: false) }
        let takers = named.isEmpty ? anonymous : named
        guard takers.count == 1, let taker = takers.first else {
            if takers.isEmpty {
                throw AddressError("\(option): no address here takes a password (each has one already, or is a file)")
            }
            let listed = takers.map { addresses[$0].description }.joined(separator: " and ")
            throw AddressError("\(option) is ambiguous: \(listed) both lack a password; put \(parameter) on the one meant")
        }
        return taker
    }
}

extension PasswordCommand {
    /// Gives `--password-command` to the one address that needs a password, by the rules of
    /// `--password-file` (``PasswordFile/apply(_:file:to:)``).
    public static func apply(_ command: PasswordCommand, to addresses: [StoreAddress]) throws(AddressError) -> [StoreAddress] {
        let taker = try PasswordFile.passwordTaker(
            in: addresses, option: "--password-command \(command)", parameter: "?password-command=CMD")
        var result = addresses
        result[taker] = StoreAddress(addresses[taker].endpoint.withPasswordCommand(command))
        return result
    }
}

extension StoreAddress {
    /// True when the address has no password and names a user (`namingUser`), or is a Redis
    /// address with neither (`!namingUser`).
    func lacksPassword(namingUser: Bool) -> Bool { endpoint.lacksPassword(namingUser: namingUser) }

    /// The address with `password`, read from the file at `path`.
    func withPassword(_ password: String, fromFile path: String) -> StoreAddress {
        StoreAddress(endpoint.withPassword(password, fromFile: path))
    }
}

extension MySQLAddress {
    public func lacksPassword(namingUser: Bool) -> Bool { namingUser && password == nil && passwordCommand == nil }

    public func withPassword(_ password: String, fromFile path: String) -> MySQLAddress {
        var address = self
        (address.password, address.passwordFile) = (password, path)
        return address
    }

    public func withPasswordCommand(_ command: PasswordCommand) -> MySQLAddress {
        var address = self
        address.passwordCommand = command
        return address
    }
}

extension RedisAddress {
    public func lacksPassword(namingUser: Bool) -> Bool { password == nil && passwordCommand == nil && (username != nil) == namingUser }

    public func withPassword(_ password: String, fromFile path: String) -> RedisAddress {
        var address = self
        (address.password, address.passwordFile) = (password, path)
        return address
    }

    public func withPasswordCommand(_ command: PasswordCommand) -> RedisAddress {
        var address = self
        address.passwordCommand = command
        return address
    }

    public func withTTL(_ seconds: Int) -> RedisAddress {
        var address = self
        address.ttlSeconds = seconds
        return address
    }
}
