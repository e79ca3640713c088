/// The objects a pickle builds, by reference: the stack and the memo hold node numbers, and
/// containers live in pools so `APPENDS`/`SETITEMS`/`BUILD` change them in place (a list
/// memoized before it is filled and fetched again later must show its items, as in Python).
///
/// Every node is made by one opcode, so the heap is O(input). ``materialize(_:)`` turns a node
/// into a ``PickleValue`` tree, refusing cycles, nesting deeper than ``PickleDecoder/maxDepth``
/// and expansions (shared subtrees repeated) beyond a work budget proportional to the input.
struct PickleHeap {
    enum Node {
        /// none, bool, int, bigInt, float, string, bytes, bytearray or global.
        case scalar(PickleValue)
        case tuple([Int])
        case list(Int)
        case dict(Int)
        case set(Int, frozen: Bool)
        case object(Int)
        case enumMember(String, Int)
    }

    struct DictStore {
        var keys: [Int] = []
        var values: [Int] = []
        var index: [HashKey: Int] = [:]
    }

    struct SetStore {
        var items: [Int] = []
        var index: Set<HashKey> = []
    }

    struct ObjectStore {
        var className: String
        var args: [Int]
        var state: Int?
    }

    /// Python equality for hashable keys: `1 == 1.0 == True`, strings by code points (UTF-8
    /// bytes, not Swift's canonical equivalence).
    enum HashKey: Hashable {
        case none
        case int(Int)
        case big([UInt8])
        case float(UInt64)
        case string([UInt8])
        case bytes([UInt8])
        case tuple([HashKey])
        case global(String)
        case member(String, [HashKey])

        func hash(into hasher: inout Hasher) {
            switch self {
            case .none: hasher.combine(0)
            case .int(let value): hasher.combine(value)
            case .float(let bits): hasher.combine(bits)
            case .big(let bytes), .string(let bytes), .bytes(let bytes):
                hasher.combine(bytes.count)
                bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
            case .tuple(let items): hasher.combine(items)
            case .global(let name): hasher.combine(name)
            case .member(let name, let value):
                hasher.combine(name)
                hasher.combine(value)
            }
        }
    }

    private(set) var nodes: [Node] = []
    var lists: [[Int]] = []
    var dicts: [DictStore] = []
    var sets: [SetStore] = []
    var objects: [ObjectStore] = []
    private var work = 0
    private let workLimit: Int

    init(inputSize: Int) {
        workLimit = 32 * inputSize + 1_000_000
    }

    mutating func add(_ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    mutating func newList(_ items: [Int] = []) -> Int {
        lists.append(items)
        return add(.list(lists.count - 1))
    }

    mutating func newDict() -> Int {
        dicts.append(DictStore())
        return add(.dict(dicts.count - 1))
    }

    mutating func newSet(frozen: Bool) -> Int {
        sets.append(SetStore())
        return add(.set(sets.count - 1, frozen: frozen))
    }

    mutating func newObject(_ className: String, args: [Int]) -> Int {
        objects.append(ObjectStore(className: className, args: args, state: nil))
        return add(.object(objects.count - 1))
    }

    mutating func charge(_ units: Int) throws(PickleError) {
        work += units
        if work > workLimit {
            throw PickleError(offset: nil, message: "value expands beyond \(workLimit) units of work (shared objects repeated too often)")
        }
    }

    /// `dict[key] = value`: an equal key keeps its position and takes the new value.
    mutating func setItem(dict: Int, key: Int, value: Int) throws(PickleError) {
        let hashKey = try hashKey(key)
        if let position = dicts[dict].index[hashKey] {
            dicts[dict].values[position] = value
        } else {
            dicts[dict].index[hashKey] = dicts[dict].keys.count
            dicts[dict].keys.append(key)
            dicts[dict].values.append(value)
        }
    }

    /// `set.add(item)`.
    mutating func addItem(set: Int, item: Int) throws(PickleError) {
        if sets[set].index.insert(try hashKey(item)).inserted { sets[set].items.append(item) }
    }

    /// The key Python would hash `node` by; throws for unhashable values (list, dict, set, instances).
    mutating func hashKey(_ node: Int, depth: Int = 0) throws(PickleError) -> HashKey {
        guard depth < 16 else { throw PickleError(offset: nil, message: "dict key or set item nested too deeply") }
        switch nodes[node] {
        case .scalar(let value):
            return try scalarKey(value)
        case .tuple(let items):
            try charge(items.count)
            var keys: [HashKey] = []
            for item in items { keys.append(try hashKey(item, depth: depth + 1)) }
            return .tuple(keys)
        case .enumMember(let className, let value):
            return .member(className, [try hashKey(value, depth: depth + 1)])
        case .list, .dict, .set, .object:
            throw PickleError(offset: nil, message: "unhashable \(kindName(node)) used as a dict key or set item")
        }
    }

    private mutating func scalarKey(_ value: PickleValue) throws(PickleError) -> HashKey {
        switch value {
        case .none: return .none
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .int(let number): return .int(number)
        case .bigInt(let bytes): return .big(bytes)
        case .float(let number):
            if number == number.rounded(), abs(number) < 9.2e18 { return .int(Int(number)) }
            return .float(number.bitPattern)
        case .string(let text):
            try charge(text.utf8.count)
            return .string(Array(text.utf8))
        case .bytes(let bytes):
            try charge(bytes.count)
            return .bytes(bytes)
        case .global(let name): return .global(name)
        default: throw PickleError(offset: nil, message: "unhashable \(value.kindName) used as a dict key or set item")
        }
    }

    func kindName(_ node: Int) -> String {
        switch nodes[node] {
        case .scalar(let value): return value.kindName
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .set(_, let frozen): return frozen ? "frozenset" : "set"
        case .object(let index): return objects[index].className
        case .enumMember(let className, _): return className
        }
    }
}
