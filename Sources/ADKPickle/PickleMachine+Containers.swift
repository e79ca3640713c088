extension PickleMachine {
    /// Marks, stack shuffling, tuples, lists, dicts and sets. Returns false for other opcodes.
    mutating func stepContainer() throws(PickleError) -> Bool {
        switch opcode {
        case UInt8(ascii: "("): marks.append(stack.count)
        case UInt8(ascii: "0"):
            if stack.count > base { stack.removeLast() } else if marks.popLast() == nil { throw fail("stack underflow") }
        case UInt8(ascii: "1"): _ = try popToMark()
        case UInt8(ascii: "2"): push(try top())
        case UInt8(ascii: ")"): push(heap.add(.tuple([])))
        case UInt8(ascii: "t"): push(heap.add(.tuple(try popToMark())))
        case 0x85, 0x86, 0x87:
            var items: [Int] = []
            for _ in 0..<Int(opcode - 0x84) { items.insert(try pop(), at: 0) }
            push(heap.add(.tuple(items)))
        case UInt8(ascii: "]"): push(heap.newList())
        case UInt8(ascii: "l"): push(heap.newList(try popToMark()))
        case UInt8(ascii: "a"):
            let item = try pop()
            heap.lists[try listIndex(try top())].append(item)
        case UInt8(ascii: "e"):
            let items = try popToMark()
            heap.lists[try listIndex(try top())].append(contentsOf: items)
        default:
            return try stepMapping()
        }
        return true
    }

    private mutating func stepMapping() throws(PickleError) -> Bool {
        switch opcode {
        case UInt8(ascii: "}"): push(heap.newDict())
        case UInt8(ascii: "d"):
            let items = try popToMark()
            let dict = heap.newDict()
            try setItems(dict, items)
            push(dict)
        case UInt8(ascii: "s"):
            let value = try pop(), key = try pop()
            try setItems(try top(), [key, value])
        case UInt8(ascii: "u"):
            let items = try popToMark()
            try setItems(try top(), items)
        case 0x8F: push(heap.newSet(frozen: false))
        case 0x90:
            let items = try popToMark()
            let target = try top()
            guard case .set(let index, frozen: false) = heap.nodes[target] else { throw fail("needs a set, got \(heap.kindName(target))") }
            for item in items { try heap.addItem(set: index, item: item) }
        case 0x91:
            let items = try popToMark()
            push(try makeSet(items, frozen: true))
        default:
            return false
        }
        return true
    }

    /// Memo opcodes. Returns false for other opcodes.
    mutating func stepMemo() throws(PickleError) -> Bool {
        switch opcode {
        case 0x94: memo[memo.count] = try top()
        case UInt8(ascii: "q"): memo[Int(try readUInt(1))] = try top()
        case UInt8(ascii: "r"): memo[Int(try readUInt(4))] = try top()
        case UInt8(ascii: "p"): memo[try textIndex()] = try top()
        case UInt8(ascii: "h"): try get(Int(try readUInt(1)))
        case UInt8(ascii: "j"): try get(Int(try readUInt(4)))
        case UInt8(ascii: "g"): try get(try textIndex())
        default: return false
        }
        return true
    }

    private mutating func get(_ index: Int) throws(PickleError) {
        guard let node = memo[index] else { throw fail("memo index \(index) was never stored") }
        push(node)
    }

    private mutating func textIndex() throws(PickleError) -> Int {
        guard let index = Int(try readLine()), index >= 0 else { throw fail("malformed memo index") }
        return index
    }

    private func listIndex(_ node: Int) throws(PickleError) -> Int {
        guard case .list(let index) = heap.nodes[node] else { throw fail("needs a list, got \(heap.kindName(node))") }
        return index
    }

    /// `SETITEM(S)`/`DICT`: `items` alternate keys and values.
    private mutating func setItems(_ node: Int, _ items: [Int]) throws(PickleError) {
        guard case .dict(let index) = heap.nodes[node] else { throw fail("needs a dict, got \(heap.kindName(node))") }
        guard items.count % 2 == 0 else { throw fail("odd number of items (a key without a value)") }
        for pair in stride(from: 0, to: items.count, by: 2) {
            try heap.setItem(dict: index, key: items[pair], value: items[pair + 1])
        }
    }

    mutating func makeSet(_ items: [Int], frozen: Bool) throws(PickleError) -> Int {
        let node = heap.newSet(frozen: frozen)
        guard case .set(let index, _) = heap.nodes[node] else { return node }
        for item in items { try heap.addItem(set: index, item: item) }
        return node
    }
}
