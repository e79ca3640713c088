/// A value read from a pickle by ``PickleDecoder``: plain data, never a live object.
///
/// Class instances are kept as their class name, constructor arguments and `BUILD` state;
/// nothing is ever called. Integers outside `Int` keep every bit (``bigInt(_:)``).
public indirect enum PickleValue: Sendable, Hashable {
    /// Python `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// An `int` that fits in `Int`.
    case int(Int)
    /// An `int` outside `Int`: little-endian two's complement bytes, as `LONG1`/`LONG4` carry them.
    case bigInt([UInt8])
    /// A `float`.
    case float(Double)
    /// A `str`.
    case string(String)
    /// A `bytes` value.
    case bytes([UInt8])
    /// A `bytearray`.
    case bytearray([UInt8])
    /// A `tuple`.
    case tuple([PickleValue])
    /// A `list`.
    case list([PickleValue])
    /// A `dict` (also `OrderedDict` and `defaultdict`), in insertion order.
    case dict([Entry])
    /// A `set`, in pickled order.
    case set([PickleValue])
    /// A `frozenset`, in pickled order.
    case frozenset([PickleValue])
    /// A reference to an allowed class or function, `module.qualname`.
    case global(String)
    /// An instance of an allowed class: `NEWOBJ`/`REDUCE` arguments and the `BUILD` state, if any.
    case object(className: String, args: [PickleValue], state: PickleValue?)
    /// A member of an allowed `Enum` class, rebuilt from its value (`REDUCE(cls, (value,))`).
    case enumMember(className: String, value: PickleValue)

    /// One `dict` item.
    public struct Entry: Sendable, Hashable {
        /// The key.
        public var key: PickleValue
        /// The value.
        public var value: PickleValue

        /// Creates an item.
        public init(key: PickleValue, value: PickleValue) {
            self.key = key
            self.value = value
        }
    }
}

extension PickleValue {
    /// A short Python-style kind name for error messages (`dict`, `list`, `EventActions`, ...).
    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .bytearray: return "bytearray"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .set: return "set"
        case .frozenset: return "frozenset"
        case .global(let name): return "global " + name
        case .object(let className, _, _), .enumMember(let className, _): return className
        }
    }

    /// The string, if this value is a `str`.
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
