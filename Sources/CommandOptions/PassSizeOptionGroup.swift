import ArgumentParser
import SessMigrate

/// `--pass-size`: how many sessions of each store `diff` and `verify` hold in memory at once (see
/// `ComparisonPasses` in docs/DESIGN.md).
public struct PassSizeOptionGroup: ParsableArguments {
    public init() {}

    @Option(
        help: ArgumentHelp(
            "Hold about this many sessions of each store in memory; more are compared in passes, each reading the session rows or keys again (default 250000).",
            valueName: "sessions"))
    public var passSize: Int?

    public func validate() throws {
        if let passSize, passSize < 1 { throw ValidationError("--pass-size must be at least 1, not \(passSize)") }
    }

    /// `engine` with this pass size, if one was given.
    public func applied(to engine: DiffEngine) -> DiffEngine {
        var engine = engine
        if let passSize { engine.sessionsPerPass = passSize }
        return engine
    }

    /// `engine` with this pass size, if one was given.
    public func applied(to engine: ContainmentEngine) -> ContainmentEngine {
        var engine = engine
        if let passSize { engine.sessionsPerPass = passSize }
        return engine
    }
}
