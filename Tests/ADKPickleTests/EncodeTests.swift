import ADKPickle
import SessionModel
import Testing

@Suite struct EncodeTests {
    @Test func casesParse() {
        #expect(ActionsCases.all.count == ActionsCases.texts.count)
    }

    @Test(arguments: [4, 5])
    func roundTripsHandWrittenCases(protocol version: Int) throws {
        for (name, actions) in ActionsCases.all {
            let decoded = try EventActionsPickle.decode(try EventActionsPickle.encode(actions, protocol: version))
            #expect(decoded.serialized(.python) == actions.serialized(.python), "\(name)")
        }
    }

    /// What ADK 2.13 reads from each real pickle survives encode → decode, except the fields
    /// ADK 1.19–1.21 lacks, which encode leaves out (and decode then shows 2.13's defaults for).
    @Test(arguments: PickleFixture.all)
    func roundTripsFixtures(_ fixture: PickleFixture) throws {
        guard let actions = try? EventActionsPickle.decode(fixture.bytes) else { return }
        var expected = actions
        for key in EventActionsPickle.fieldsUnknownToV0Era(actions) { expected[key] = nil }
        for version in [4, 5] {
            let decoded = try EventActionsPickle.decode(try EventActionsPickle.encode(actions, protocol: version))
            #expect(decoded.serialized(.python) == expected.serialized(.python))
        }
    }

    @Test func omitsFieldsADK121Lacks() throws {
        let actions = try JSONValue.parseObject(
            #"{"state_delta": {"a": 1}, "transfer_to_agent": "x", "transfer_reason": "r", "route": ["a", 2], "render_ui_widgets": [{"id": "w", "provider": "p", "payload": {}}], "set_model_response": {"k": null}}"#
        )
        #expect(EventActionsPickle.fieldsUnknownToV0Era(actions) == ["transfer_reason", "route", "render_ui_widgets", "set_model_response"])
        let decoded = try EventActionsPickle.decode(try EventActionsPickle.encode(actions))
        #expect(decoded.keys == ["state_delta", "artifact_delta", "transfer_to_agent", "requested_auth_configs", "requested_tool_confirmations"])
    }

    @Test func writesWhatCPythonWrites() throws {
        let bytes = try EventActionsPickle.encode(JSONObject(), protocol: 5)
        #expect(Array(bytes.prefix(3)) == [0x80, 5, 0x95])
        #expect(bytes.last == UInt8(ascii: "."))
        guard case .object(let className, let args, .dict(let state)?) = try PickleDecoder.decode(bytes) else {
            Issue.record("not an object")
            return
        }
        #expect(className == "google.adk.events.event_actions.EventActions")
        #expect(args.isEmpty)
        #expect(state.map(\.key) == ["__dict__", "__pydantic_extra__", "__pydantic_fields_set__", "__pydantic_private__"].map(PickleValue.string))
    }

    @Test func bytesFieldsBecomeBytes() throws {
        guard let actions = ActionsCases.all.first(where: { $0.name == "compaction_bytes" })?.actions else {
            Issue.record("missing case")
            return
        }
        let text = String(describing: try PickleDecoder.decode(try EventActionsPickle.encode(actions)))
        #expect(text.contains("bytes([251, 255, 254, 0, 1])"))
        #expect(text.contains("start_timestamp\"), value: ADKPickle.PickleValue.float(2.5)"))
    }

    @Test func refusesWhatItCannotWrite() throws {
        #expect(throws: PickleError.self) { try EventActionsPickle.encode(JSONObject(), protocol: 3) }
        let notBase64 = try JSONValue.parseObject(
            #"{"compaction": {"start_timestamp": 1.0, "end_timestamp": 2.0, "compacted_content": {"parts": [{"inline_data": {"data": "not base64!"}}]}}}"#)
        #expect(throws: PickleError.self) { try EventActionsPickle.encode(notBase64) }
        let huge = try JSONValue.parseObject("{\"state_delta\": {\"n\": \(String(repeating: "9", count: 6000))}}")
        #expect(throws: PickleError.self) { try EventActionsPickle.encode(huge) }
    }
}
