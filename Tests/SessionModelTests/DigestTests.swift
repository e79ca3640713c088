import Testing

@testable import SessionModel

@Suite struct DigestTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256KnownAnswers(input: String, expected: String) {
        #expect(SHA256.hex(of: Array(input.utf8)) == expected)
    }

    @Test func sha256OfAMillionAsInUnevenChunks() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        var fed = 0
        var size = 1
        while fed < 1_000_000 {
            let take = min(size, 1_000_000 - fed)
            hasher.update(chunk[0..<min(take, 1000)])
            fed += min(take, 1000)
            size = size % 997 + 13
        }
        #expect(SHA256.hexString(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func digestIgnoresKeyOrderAndNumberLayoutButNotKind() throws {
        func digest(_ text: String) throws -> String {
            var digest = CanonicalDigest()
            digest.feed(try JSONValue.parse(text))
            return SHA256.hexString(digest.finalize())
        }
        #expect(try digest(#"{"a": 1, "b": [1e-07, 2.50]}"#) == digest(#"{"b":[1e-7,2.5],"a":1}"#))
        #expect(try digest(#"{"a": 1}"#) != digest(#"{"a": 1.0}"#))
        #expect(try digest(#"["ab", "c"]"#) != digest(#"["a", "bc"]"#))
        #expect(try digest(#"{"a": null}"#) != digest("{}"))
        #expect(try digest("[-0.0]") == digest("[0.0]"))
        #expect(try digest("[1e400]") == digest("[Infinity]"))
    }
}

@Suite struct Base64Tests {
    /// The canonical encoding is what snapshot files hold the digests of, so it must never change. The
    /// expected value comes from an independent encoder (Python, from the encoding's description): unsorted
    /// objects of more and fewer than 8 members, keys that are prefixes of others, non-ASCII keys in
    /// UTF-8 byte order, -0, floats and a 30-digit integer.
    @Test func canonicalEncodingIsStable() throws {
        let text = #"""
            {"z": 1, "é": [true, false, null], "a": {"ab": -0, "a": 10, "b": [1e-07, 2.50, -3.5e300]}, "": "",
            "日本": {"k9": 9, "k1": 1, "k8": 8, "k2": 2, "k7": 7, "k3": 3, "k6": 6, "k4": 4, "k5": 5, "k10": {}},
            "Z": "ß🦆", "aa": [[], {}, [{"y": 2, "x": 1}]], "big": 123456789012345678901234567890, "neg": -42}
            """#
        var digest = CanonicalDigest()
        digest.feed(try JSONValue.parse(text))
        #expect(SHA256.hexString(digest.finalize()) == "fc94b7e1a97b33f75f9e181cbd99445f7ed72625f263868aae85acdc55c5ea74")
    }

    @Test func urlSafeWithAndWithoutPadding() {
        #expect(Base64.urlSafe([0xFB, 0xFF, 0xFE]) == "-__-")
        #expect(Base64.urlSafe([0xFB]) == "-w==")
        #expect(Base64.urlSafe([0xFB], padded: false) == "-w")
        #expect(Base64.decode("+w==") == [0xFB])
        #expect(Base64.decode("-w") == [0xFB])
    }

    @Test func strictModeRefusesPaddingAndTheStandardAlphabet() {
        #expect(Base64.decode("-w", strictURLSafeUnpadded: true) == [0xFB])
        #expect(Base64.decode("-w==", strictURLSafeUnpadded: true) == nil)
        #expect(Base64.decode("+w", strictURLSafeUnpadded: true) == nil)
        #expect(Base64.decode("abcde", strictURLSafeUnpadded: true) == nil)
    }
}
