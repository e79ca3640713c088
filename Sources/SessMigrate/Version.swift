/// The tool's version, reported by `--version` and recorded in journals and snapshots.
public enum SessMigrateVersion {
    public static let current = "0.1.0"
}
