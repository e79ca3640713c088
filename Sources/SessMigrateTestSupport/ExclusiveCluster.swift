import Testing

/// A suite trait: the suites that write to the test Redis Cluster (`SESSMIGRATE_REDIS_CLUSTER_URL`)
/// run one at a time, whole, even from different test targets (they share one process). Each
/// cleans or names its keys, but a layout check or a count over the whole keyspace would see
/// another suite's sessions written meanwhile.
public struct ExclusiveCluster: SuiteTrait, TestScoping {
    public init() {}

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        await ClusterGate.shared.enter()
        do {
            try await function()
        } catch {
            await ClusterGate.shared.leave()
            throw error
        }
        await ClusterGate.shared.leave()
    }
}

extension Trait where Self == ExclusiveCluster {
    /// See ``ExclusiveCluster``.
    public static var exclusiveCluster: Self { ExclusiveCluster() }
}

/// One holder at a time, the others waiting in order (no thread is blocked).
private actor ClusterGate {
    static let shared = ClusterGate()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
