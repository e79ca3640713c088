import Dispatch

extension RedisClusterKeyspace {
    /// Runs each node's pipeline at the same time, one thread per node, and returns the replies in
    /// the order of `work`: a batch goes to every primary, and one node's round trip no longer waits
    /// for the others'. Connections are opened, and the failed ones dropped, on the calling thread;
    /// an error is thrown once every pipeline has ended (the first in `work` order), as
    /// ``withNode(_:_:)`` throws it.
    func pipelines(_ work: [(address: String, pipeline: [[[UInt8]]])]) throws -> [[RedisReply]] {
        if work.count == 1 { return [try withNode(work[0].address) { try $0.pipeline(work[0].pipeline) }] }
        let connections = try work.map { try connection(to: $0.address) }
        var results = [Result<[RedisReply], any Error>](repeating: .success([]), count: work.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = PipelineSlots(connections: connections, pipelines: work.map(\.pipeline), results: buffer)
            // Each iteration uses its own connection and writes its own slot only.
            DispatchQueue.concurrentPerform(iterations: work.count) { index in
                slots.results[index] = Result { try slots.connections[index].pipeline(slots.pipelines[index]) }
            }
        }
        var failure: (any Error)?
        for (index, result) in results.enumerated() {
            guard case .failure(let error) = result else { continue }
            let mapped = nodeFailure(work[index].address, error)
            failure = failure ?? mapped
        }
        if let failure { throw failure }
        return results.map { (try? $0.get()) ?? [] }
    }

    /// The error `body` threw on node `address`: a connection, I/O or timeout error drops the
    /// node's connection (it is unusable) and names the node.
    func nodeFailure(_ address: String, _ error: any Error) -> any Error {
        guard let error = error as? RedisError, [.connectionFailed, .io, .timeout].contains(error.code) else { return error }
        drop(address)
        return RedisError(
            code: .connectionFailed, hiredisError: error.hiredisError, message: "cluster node \(address): \(error.message)", context: error.context)
    }
}

/// What the threads of ``RedisClusterKeyspace/pipelines(_:)`` share: thread `i` uses only
/// connection `i` and writes only result `i`.
private struct PipelineSlots: @unchecked Sendable {
    let connections: [RedisConnection]
    let pipelines: [[[[UInt8]]]]
    let results: UnsafeMutableBufferPointer<Result<[RedisReply], any Error>>
}
