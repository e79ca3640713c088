import Testing

@testable import SessionModel

/// ``EventTranscoder`` writes the same bytes and finds the same fields as the tree path (parse,
/// ``CommunityForm``, serialize, ``Event/init(data:)``), and declines where the tree path refuses.
@Suite struct EventTranscoderTests {
    static let transforms: [EventTransform] = [.none, .toCanonical, .toCommunity]

    /// What the tree path makes of `text`, or `nil` where it refuses the text as an event.
    static func viaTree(_ text: String, _ transform: EventTransform, _ style: JSONStyle) -> (String, EventTextFields)? {
        guard var object = try? JSONValue.parseObject(text) else { return nil }
        switch transform {
        case .none: break
        case .toCanonical: object = CommunityForm.canonicalEvent(object)
        case .toCommunity: object = CommunityForm.communityEvent(object)
        }
        let canonical = transform == .toCommunity ? CommunityForm.canonicalEvent(object) : object
        guard let event = try? Event(data: canonical) else { return nil }
        return (object.serialized(style), EventTextFields(id: event.id, invocationId: event.invocationId, timestamp: event.timestamp))
    }

    /// Checks every transform and style; returns how many of the six the transcoder declined.
    @discardableResult
    static func check(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        var declined = 0
        for transform in transforms {
            for style in [JSONStyle.python, .compact] {
                let tree = viaTree(text, transform, style)
                guard let fast = EventTranscoder.transcode(text, transform: transform, style: style) else {
                    declined += 1
                    continue
                }
                #expect(tree != nil, "accepted what the tree refuses: \(transform) \(style) \(text)", sourceLocation: sourceLocation)
                guard let tree else { continue }
                #expect(fast.text == tree.0, "\(transform) \(style) \(text)", sourceLocation: sourceLocation)
                var fields = fast.fields
                fields.communityTextIsSame = false
                #expect(fields == tree.1, "\(transform) \(style) \(text)", sourceLocation: sourceLocation)
                // Said only of compact canonical text, and only where the community form is that text.
                let community = transform == .none && style == .compact ? viaTree(text, .toCommunity, .compact)?.0 : nil
                #expect(fast.fields.communityTextIsSame == (community == tree.0), "\(transform) \(style) \(text)", sourceLocation: sourceLocation)
            }
        }
        return declined
    }

    static let adkEvents = [
        ##"{"content": {"parts": [{"text": "thinking", "thought": true, "thought_signature": "--_-+/=="}, {"function_call": {"id": "fc1", "args": {"a": null, "b": [1, 2.0, null], "c": {"d": null}}, "name": "tool"}}], "role": "model"}, "custom_metadata": {"k": null, "z": 1e+16}, "invocation_id": "inv1", "author": "agent", "actions": {"state_delta": {}, "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}}, "node_info": {"path": ""}, "long_running_tool_ids": ["abc", "fc1"], "id": "ev2", "timestamp": 1700000001.5}"##,
        ##"{"content": {"parts": [{"function_response": {"id": "fc1", "name": "tool", "response": {"result": null, "ok": true}}}], "role": "user"}, "usage_metadata": {"candidates_token_count": 3, "prompt_token_count": 10}, "invocation_id": "inv1", "author": "agent", "actions": {"state_delta": {"user:lang": "de"}, "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}, "agent_state": {"nodes": {"n": {"status": 1, "interrupts": null}}}}, "node_info": {"path": ""}, "id": "ev3", "timestamp": 1700000002.0}"##,
        ##"{"content":{"parts":[{"inline_data":{"data":"ab+/cd-_","mime_type":"image/png","display_name":null}},{"text":"h\u00e9 \ud83e\udd86 ü日本\/"}],"role":"user"},"grounding_metadata":null,"partial":null,"invocation_id":null,"author":"user","actions":{"state_delta":{"k":null,"f":2.5e-05},"artifact_delta":{},"skip_summarization":null},"id":"e-1","timestamp":1760000002}"##,
        ##"{"id": "x", "timestamp": 1.0e-7, "custom_metadata": {"n": null, "inline_data": {"data": "a+b"}}, "sdk_blob": "+-_/", "error_code": null, "x": [null, {"y": null}]}"##,
    ]

    @Test(arguments: adkEvents)
    func adkEventsTranscodeAsTheTreeDoes(text: String) {
        #expect(Self.check(text) == 0)
        #expect(Self.check(Self.escapingSlashes(text)) == 0)
    }

    /// Python's and the tree path's JSON cases, wrapped as events.
    /// `/` written `\/` (valid JSON: a slash appears only inside strings).
    static func escapingSlashes(_ text: String) -> String {
        String(decoding: text.utf8.flatMap { $0 == UInt8(ascii: "/") ? [UInt8(ascii: "\\"), $0] : [$0] }, as: UTF8.self)
    }

    @Test func pythonCasesAsEvents() {
        for (input, _) in pythonJSONCases {
            let wrapped = #"{"id": "e", "timestamp": 1.5, "v": "# + input + "}"
            Self.check(wrapped)
        }
    }

    @Test(arguments: [
        #"{"id": "e", "timestamp": 1, "a": 1, "a": 2}"#, #"{"id": "e\u0041", "timestamp": 1}"#, #"{"id": "e", "timestamp": NaN}"#,
        #"{"id": "e", "timestamp": 1e400}"#, #"{"id": "e", "timestamp": "1"}"#, #"{"id": 1, "timestamp": 1}"#, #"{"timestamp": 1}"#,
        #"{"id": "e"}"#, #"{"id": "e", "timestamp": 1, "s": "\ud800"}"#, #"{"id": "e", "timestamp": 1, "s": "\udc00x"}"#,
        #"{"id": "e", "timestamp": 1} x"#, #"{"id": "e", "timestamp": 1,}"#, #"{"id": "e", "timestamp": 01}"#, "[1]", "",
        #"{"id": "e", "timestamp": 1, "k\n": 1}"#, #"{"id": "e", "timestamp": 1, "v": [Infinity]}"#, #"{"id": null, "timestamp": 1}"#,
    ])
    func declinesWhatItLeavesToTheTree(text: String) {
        #expect(Self.check(text) == 6)
    }

    @Test func declinesInvalidUTF8() {
        for bytes in [[0x22, 0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xC0, 0xAF]] as [[UInt8]] {
            let text = Array(#"{"id": "e", "timestamp": 1, "s": "#.utf8) + bytes + Array("\"}".utf8)
            for style in [JSONStyle.python, .compact] {
                var output: [UInt8] = [1, 2]
                let fields = text.withUnsafeBytes { EventTranscoder.transcode($0, transform: .none, style: style, into: &output) }
                #expect(fields == nil)
                #expect(output == [1, 2])
            }
        }
    }

    /// Seeded random events in both styles, some with escaped slashes: the same as the tree. With
    /// ASCII keys (Python's style escapes the others, which the transcoder leaves to the tree) and
    /// no key repeated, none declines.
    @Test(arguments: [false, true])
    func randomEventsTranscodeAsTheTreeDoes(asciiKeys: Bool) {
        var random = SeededRandom(seed: asciiKeys ? 42 : 7)
        var declined = 0
        for round in 0..<1500 {
            let event = RandomEvent.make(&random, id: "ev\(round)", asciiKeys: asciiKeys)
            for style in [JSONStyle.python, .compact] {
                let text = event.serialized(style)
                declined += Self.check(text)
                if round % 3 == 0 { declined += Self.check(Self.escapingSlashes(text)) }
            }
        }
        if asciiKeys { #expect(declined == 0) }
    }
}
