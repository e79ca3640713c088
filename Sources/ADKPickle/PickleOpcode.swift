/// Names of the pickle opcodes (CPython `pickletools`), for error messages.
enum PickleOpcode {
    static func name(_ code: UInt8) -> String? {
        if code >= 0x80 { return code <= 0x98 ? binary[Int(code - 0x80)] : nil }
        return classic[code]
    }

    private static let binary = [
        "PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE", "NEWFALSE",
        "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET", "ADDITEMS",
        "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8", "NEXT_BUFFER",
        "READONLY_BUFFER",
    ]

    private static let classic: [UInt8: String] = [
        UInt8(ascii: "("): "MARK", UInt8(ascii: "."): "STOP", UInt8(ascii: "0"): "POP", UInt8(ascii: "1"): "POP_MARK",
        UInt8(ascii: "2"): "DUP", UInt8(ascii: "F"): "FLOAT", UInt8(ascii: "I"): "INT", UInt8(ascii: "J"): "BININT",
        UInt8(ascii: "K"): "BININT1", UInt8(ascii: "L"): "LONG", UInt8(ascii: "M"): "BININT2", UInt8(ascii: "N"): "NONE",
        UInt8(ascii: "P"): "PERSID", UInt8(ascii: "Q"): "BINPERSID", UInt8(ascii: "R"): "REDUCE", UInt8(ascii: "S"): "STRING",
        UInt8(ascii: "T"): "BINSTRING", UInt8(ascii: "U"): "SHORT_BINSTRING", UInt8(ascii: "V"): "UNICODE",
        UInt8(ascii: "X"): "BINUNICODE", UInt8(ascii: "a"): "APPEND", UInt8(ascii: "b"): "BUILD", UInt8(ascii: "c"): "GLOBAL",
        UInt8(ascii: "d"): "DICT", UInt8(ascii: "}"): "EMPTY_DICT", UInt8(ascii: "e"): "APPENDS", UInt8(ascii: "g"): "GET",
        UInt8(ascii: "h"): "BINGET", UInt8(ascii: "i"): "INST", UInt8(ascii: "j"): "LONG_BINGET", UInt8(ascii: "l"): "LIST",
        UInt8(ascii: "]"): "EMPTY_LIST", UInt8(ascii: "o"): "OBJ", UInt8(ascii: "p"): "PUT", UInt8(ascii: "q"): "BINPUT",
        UInt8(ascii: "r"): "LONG_BINPUT", UInt8(ascii: "s"): "SETITEM", UInt8(ascii: "t"): "TUPLE", UInt8(ascii: ")"): "EMPTY_TUPLE",
        UInt8(ascii: "u"): "SETITEMS", UInt8(ascii: "G"): "BINFLOAT", UInt8(ascii: "B"): "BINBYTES", UInt8(ascii: "C"): "SHORT_BINBYTES",
    ]
}
