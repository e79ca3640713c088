extension PickleMachine {
    /// Globals and object construction, none of which runs anything: `REDUCE`/`NEWOBJ` record
    /// the class and arguments (or build the container a builtin would return), `BUILD` records
    /// the state. Returns false for other opcodes.
    mutating func stepObject() throws(PickleError) -> Bool {
        switch opcode {
        case UInt8(ascii: "c"):
            let module = try readLine()
            push(try global(module: module, name: try readLine()))
        case 0x93:
            let name = try pop(), module = try pop()
            guard case .scalar(.string(let nameText)) = heap.nodes[name], case .scalar(.string(let moduleText)) = heap.nodes[module] else {
                throw fail("module and name must be str")
            }
            push(try global(module: moduleText, name: nameText))
        case UInt8(ascii: "R"):
            let args = try tupleItems(try pop())
            push(try call(try globalName(try pop()), args))
        case 0x81:
            let args = try tupleItems(try pop())
            push(try newObject(try globalName(try pop()), args))
        case 0x92:
            let kwargs = try pop(), args = try tupleItems(try pop()), cls = try globalName(try pop())
            guard case .dict(let index) = heap.nodes[kwargs], heap.dicts[index].keys.isEmpty else {
                throw fail("keyword arguments are not supported")
            }
            push(try newObject(cls, args))
        case UInt8(ascii: "b"):
            let state = try pop(), target = try top()
            guard case .object(let index) = heap.nodes[target], heap.objects[index].state == nil else {
                throw fail("BUILD needs a new object, got \(heap.kindName(target))")
            }
            heap.objects[index].state = state
        default:
            return false
        }
        return true
    }

    /// Resolves `module.name` against the allowlist only.
    private mutating func global(module rawModule: String, name: String) throws(PickleError) -> Int {
        let module = protocolVersion < 3 ? PickleAllowlist.fixImports(rawModule) : rawModule
        let qualified = module + "." + name
        guard PickleAllowlist.all.contains(qualified) else {
            let shown = qualified.count > 120 ? qualified.prefix(120) + "…" : Substring(qualified)
            throw fail("global \(shown) is not allowed (not a type EventActions can hold)")
        }
        return heap.add(.scalar(.global(qualified)))
    }

    private func globalName(_ node: Int) throws(PickleError) -> String {
        guard case .scalar(.global(let name)) = heap.nodes[node] else { throw fail("needs a class, got \(heap.kindName(node))") }
        return name
    }

    private func tupleItems(_ node: Int) throws(PickleError) -> [Int] {
        guard case .tuple(let items) = heap.nodes[node] else { throw fail("arguments must be a tuple, got \(heap.kindName(node))") }
        return items
    }

    /// `cls.__new__(cls, *args)`: empty builtin containers, otherwise a recorded instance.
    private mutating func newObject(_ cls: String, _ args: [Int]) throws(PickleError) -> Int {
        switch cls {
        case "builtins.dict", "collections.OrderedDict", "collections.defaultdict": return heap.newDict()
        case "builtins.list": return heap.newList()
        case "builtins.set": return heap.newSet(frozen: false)
        default: return heap.newObject(cls, args: args)
        }
    }

    /// `REDUCE`: the few callables whose result is plain data, enum members, recorded instances.
    private mutating func call(_ callable: String, _ args: [Int]) throws(PickleError) -> Int {
        if ModelSchema.generatedEnums.contains(callable) {
            guard args.count == 1 else { throw fail("enum \(callable) takes one value") }
            return heap.add(.enumMember(callable, args[0]))
        }
        switch callable {
        case "builtins.set", "builtins.frozenset":
            return try makeSet(try iterable(args), frozen: callable == "builtins.frozenset")
        case "builtins.list":
            return heap.newList(try iterable(args))
        case "builtins.tuple":
            return heap.add(.tuple(try iterable(args)))
        case "builtins.dict", "collections.OrderedDict", "collections.defaultdict":
            guard args.isEmpty || (args.count == 1 && callable == "collections.defaultdict") else {
                throw fail("\(callable) with arguments is not supported")
            }
            return heap.newDict()
        case "builtins.bytes", "builtins.bytearray", "_codecs.encode":
            return heap.add(.scalar(try bytesCall(callable, args)))
        case "copyreg._reconstructor", "copyreg.__newobj__":
            guard let cls = args.first else { throw fail("\(callable) needs a class") }
            return try newObject(try globalName(cls), callable == "copyreg.__newobj__" ? Array(args.dropFirst()) : [])
        default:
            return heap.newObject(callable, args: args)
        }
    }

    /// `list(x)`/`set(x)`/`tuple(x)` of a list, tuple or set (no argument: empty).
    private func iterable(_ args: [Int]) throws(PickleError) -> [Int] {
        guard let source = args.first else { return [] }
        guard args.count == 1 else { throw fail("too many arguments") }
        switch heap.nodes[source] {
        case .list(let index): return heap.lists[index]
        case .tuple(let items): return items
        case .set(let index, _): return heap.sets[index].items
        default: throw fail("cannot iterate \(heap.kindName(source))")
        }
    }

    /// `bytes()`, `bytearray(b)`, and protocol 2's `_codecs.encode(text, 'latin1')`.
    private func bytesCall(_ callable: String, _ args: [Int]) throws(PickleError) -> PickleValue {
        let values = args.map { node -> PickleValue? in
            if case .scalar(let value) = heap.nodes[node] { return value }
            return nil
        }
        switch (callable, values.count, values.first ?? nil) {
        case ("builtins.bytes", 0, _): return .bytes([])
        case ("builtins.bytearray", 0, _): return .bytearray([])
        case ("builtins.bytearray", 1, .bytes(let bytes)?): return .bytearray(bytes)
        case ("_codecs.encode", 2, .string(let text)?):
            guard case .string(let encoding)? = values[1], ["latin1", "latin-1", "iso-8859-1"].contains(encoding.lowercased()),
                text.unicodeScalars.allSatisfy({ $0.value < 256 })
            else {
                throw fail("_codecs.encode supports latin-1 text only")
            }
            return .bytes(text.unicodeScalars.map { UInt8($0.value) })
        default:
            throw fail("unsupported call of \(callable)")
        }
    }
}
