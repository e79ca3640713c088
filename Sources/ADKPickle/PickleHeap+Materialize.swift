extension PickleHeap {
    /// The value tree of `root`. Throws on a cycle (Python would build one; JSON cannot hold it),
    /// on nesting deeper than ``PickleDecoder/maxDepth`` and when shared subtrees would expand
    /// beyond the work budget.
    mutating func materialize(_ root: Int) throws(PickleError) -> PickleValue {
        var open = [Bool](repeating: false, count: nodes.count)
        return try materialize(root, depth: 0, open: &open)
    }

    private mutating func materialize(_ node: Int, depth: Int, open: inout [Bool]) throws(PickleError) -> PickleValue {
        guard depth <= PickleDecoder.maxDepth else {
            throw PickleError(offset: nil, message: "nesting deeper than \(PickleDecoder.maxDepth) levels")
        }
        if case .scalar(let value) = nodes[node] {
            try charge(1 + payloadSize(value))
            return value
        }
        guard !open[node] else { throw PickleError(offset: nil, message: "recursive \(kindName(node)) (it contains itself)") }
        open[node] = true
        defer { open[node] = false }
        try charge(1)
        return try materializeContainer(node, depth: depth, open: &open)
    }

    private mutating func materializeContainer(_ node: Int, depth: Int, open: inout [Bool]) throws(PickleError) -> PickleValue {
        func all(_ refs: [Int], _ heap: inout PickleHeap) throws(PickleError) -> [PickleValue] {
            try heap.charge(refs.count)
            var values: [PickleValue] = []
            values.reserveCapacity(refs.count)
            for ref in refs { values.append(try heap.materialize(ref, depth: depth + 1, open: &open)) }
            return values
        }
        switch nodes[node] {
        case .scalar(let value):
            return value
        case .tuple(let items):
            return .tuple(try all(items, &self))
        case .list(let index):
            return .list(try all(lists[index], &self))
        case .set(let index, let frozen):
            let items = try all(sets[index].items, &self)
            return frozen ? .frozenset(items) : .set(items)
        case .dict(let index):
            let store = dicts[index]
            let keys = try all(store.keys, &self)
            let values = try all(store.values, &self)
            return .dict(zip(keys, values).map { PickleValue.Entry(key: $0, value: $1) })
        case .enumMember(let className, let value):
            return .enumMember(className: className, value: try materialize(value, depth: depth + 1, open: &open))
        case .object(let index):
            let store = objects[index]
            let args = try all(store.args, &self)
            var state: PickleValue?
            if let stateRef = store.state { state = try materialize(stateRef, depth: depth + 1, open: &open) }
            return .object(className: store.className, args: args, state: state)
        }
    }

    private func payloadSize(_ value: PickleValue) -> Int {
        switch value {
        case .string(let text): return text.utf8.count
        case .bytes(let bytes), .bytearray(let bytes), .bigInt(let bytes): return bytes.count
        default: return 0
        }
    }
}
