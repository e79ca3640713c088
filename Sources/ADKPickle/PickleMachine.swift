/// The opcode loop behind ``PickleDecoder``: input cursor, stack with marks, memo and heap.
struct PickleMachine {
    let input: [UInt8]
    var position = 0
    /// Offset of the opcode being run, for errors.
    var opcodeStart = 0
    var opcode: UInt8 = 0
    var stack: [Int] = []
    var marks: [Int] = []
    var memo: [Int: Int] = [:]
    var heap: PickleHeap
    var protocolVersion = 0

    init(input: [UInt8]) {
        self.input = input
        heap = PickleHeap(inputSize: input.count)
    }

    /// Runs opcodes up to `STOP`; returns the node left on top of the stack.
    mutating func run() throws(PickleError) -> Int {
        while true {
            opcodeStart = position
            opcode = try readByte()
            if opcode == UInt8(ascii: ".") { return try pop() }
            let handled: Bool
            do throws(PickleError) {
                handled = try step()
            } catch {
                throw error.offset == nil ? fail(error.message) : error
            }
            guard handled else {
                let message = PickleOpcode.name(opcode).map { "unsupported opcode \($0)" } ?? "unknown opcode 0x" + String(opcode, radix: 16)
                throw PickleError(offset: opcodeStart, message: message)
            }
        }
    }

    /// Runs one opcode; false if no handler knows it. (`||` would erase the typed throws.)
    private mutating func step() throws(PickleError) -> Bool {
        if try stepData() { return true }
        if try stepContainer() { return true }
        if try stepMemo() { return true }
        return try stepObject()
    }

    func fail(_ message: String) -> PickleError {
        let name = PickleOpcode.name(opcode) ?? "0x" + String(opcode, radix: 16)
        return PickleError(offset: opcodeStart, message: "\(name): \(message)")
    }

    // MARK: - Input

    var remaining: Int { input.count - position }

    mutating func readByte() throws(PickleError) -> UInt8 {
        guard position < input.count else {
            throw PickleError(offset: position, message: "truncated: input ends before STOP")
        }
        position += 1
        return input[position - 1]
    }

    /// `count` bytes; checks the length against the remaining input before allocating.
    mutating func readBytes(_ count: Int) throws(PickleError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw fail("length \(count) exceeds the \(remaining) bytes left (truncated or corrupt)")
        }
        position += count
        return input[(position - count)..<position]
    }

    /// A little-endian unsigned integer of `width` bytes (1, 2, 4 or 8).
    mutating func readUInt(_ width: Int) throws(PickleError) -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in try readBytes(width).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    /// A length prefix of `width` bytes, checked against the remaining input.
    mutating func readLength(_ width: Int) throws(PickleError) -> Int {
        let length = try readUInt(width)
        guard length <= UInt64(remaining) else {
            throw fail("length \(length) exceeds the \(remaining) bytes left (truncated or corrupt)")
        }
        return Int(length)
    }

    /// A text line (protocol 0 arguments), without its `\n`.
    mutating func readLine() throws(PickleError) -> String {
        String(decoding: try readLineBytes(), as: UTF8.self)
    }

    mutating func readLineBytes() throws(PickleError) -> ArraySlice<UInt8> {
        guard let end = input[position...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw fail("truncated: no end of line")
        }
        defer { position = end + 1 }
        return input[position..<end]
    }

    // MARK: - Stack

    /// Height of the stack when the innermost `MARK` was set (pops may not go below it).
    var base: Int { marks.last ?? 0 }

    mutating func push(_ node: Int) { stack.append(node) }

    mutating func pop() throws(PickleError) -> Int {
        guard stack.count > base else { throw fail("stack underflow") }
        return stack.removeLast()
    }

    func top() throws(PickleError) -> Int {
        guard stack.count > base, let last = stack.last else { throw fail("stack underflow") }
        return last
    }

    /// The items pushed since the innermost `MARK`, removing them and the mark.
    mutating func popToMark() throws(PickleError) -> [Int] {
        guard let mark = marks.popLast() else { throw fail("no MARK on the stack") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    mutating func pushScalar(_ value: PickleValue) { push(heap.add(.scalar(value))) }
}
