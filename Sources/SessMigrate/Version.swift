import CBuildInfo

/// The tool's version, reported by `--version` and recorded in journals and snapshots.
public enum SessMigrateVersion {
    /// The release number: the Debian package's version (`scripts/package` reads it from `--version`).
    /// The one place it is written.
    public static let number = "0.2.0"

    /// The git commit the binary was built from (12 hex digits, `-dirty` when the work tree had
    /// uncommitted changes), or `unknown` for a build that was not told (a plain `swift build`).
    /// Comes from the build (`CBuildInfo`), never from a file edited by hand.
    public static let commit = String(cString: sessmigrate_build_commit())

    /// What `--version` prints and journals and snapshot manifests record: `0.2.0 (commit 1a2b3c4d5e6f)`.
    public static let current = "\(number) (commit \(commit))"
}
