import SessionModel

/// Reads and writes the pickled `EventActions` that ADK's schema-v0 `events.actions` column holds.
///
/// ```swift
/// let actions = try EventActionsPickle.decode(blob)            // the JSON of v1 `event_data.actions`
/// let blob = try EventActionsPickle.encode(actions, protocol: 4) // what ADK 1.19–2.13 unpickle
/// ```
public enum EventActionsPickle {
    /// The `actions` JSON ADK 2.13 writes when it migrates this v0 row (`adk migrate session`):
    /// `EventActions.model_validate(pickled.model_dump()).model_dump(mode="json", exclude_none=True)`.
    ///
    /// So: fields in ADK 2.13's declaration order with snake_case names; `None` fields dropped
    /// (`None` inside free-form values kept); fields the writing ADK lacked get 2.13's defaults
    /// (`state_delta`, `artifact_delta`, `requested_auth_configs`, `requested_tool_confirmations`
    /// = `{}`, `ToolConfirmation.hint` = `""`, `OAuth2Auth.token_endpoint_auth_method`, ...);
    /// bytes in google.genai models URL-safe base64; enums their value; tuples and sets lists (in
    /// pickled order); NaN and infinities `null`; ints exact. 2.13's quirks are reproduced, e.g. an
    /// `APIKey` auth scheme comes back with `"scheme": "bearer"` and subclass-only fields of an
    /// `ExtendedOAuth2` scheme are dropped. Keys of `EventActions` unknown to 2.13 (a newer ADK)
    /// are kept after the known ones.
    ///
    /// Throws for anything that is not a readable pickle of an `EventActions` (or dict or `None`),
    /// for globals outside ``PickleDecoder/allowedGlobals``, and for values ADK itself cannot
    /// dump (e.g. non-UTF-8 `bytes` in `state_delta`).
    public static func decode(_ bytes: [UInt8]) throws(PickleError) -> JSONObject {
        try PydanticView().eventActions(try PickleDecoder.decode(bytes))
    }

    /// A pickle of `EventActions` holding these fields, which ADK 1.19–1.21 (`pickle.loads`) and
    /// ADK ≥ 2.8 (restricted unpickler) both load.
    ///
    /// The instance is `EventActions` (`NEWOBJ` + `BUILD` of pydantic's state dict, fields set =
    /// the keys written); field values are plain dicts, lists, str, int, float, bool and None,
    /// which ADK re-validates into models when it reads the row (ADK ≥ 1.22 prints pydantic
    /// serializer warnings for dicts where models belong; 1.19–1.21 never validate and hand the
    /// dicts on). Strings at `bytes` fields (`compacted_content` blobs, thought signatures) are
    /// base64-decoded into `bytes`, and integers at `float` fields become floats, so every
    /// version reads the same values. Keys ``fieldsUnknownToV0Era(_:)`` lists are left out.
    ///
    /// - Parameter protocol: 4 (`pickle.dumps` default, MySQL) or 5 (SQLAlchemy `PickleType`).
    public static func encode(_ actions: JSONObject, protocol version: Int = 4) throws(PickleError) -> [UInt8] {
        guard version == 4 || version == 5 else {
            throw PickleError(offset: nil, message: "pickle protocol \(version) is not supported (use 4 or 5)")
        }
        guard let schema = ModelSchema.generated[ModelSchema.eventActionsClass] else {
            throw PickleError(offset: nil, message: "no table for EventActions")
        }
        let members = actions.members.filter { ModelSchema.v0EraEventActionsFields.contains($0.key) }
        var encoder = JSONPickleEncoder()
        encoder.writer.global(module: "google.adk.events.event_actions", name: "EventActions")
        encoder.writer.op(")")
        encoder.writer.op(0x81)
        encoder.writer.op("}")
        encoder.writer.op("(")
        encoder.writer.string("__dict__")
        try encoder.object(members, schema: schema, path: "")
        encoder.writer.string("__pydantic_extra__")
        encoder.writer.op("N")
        encoder.writer.string("__pydantic_fields_set__")
        encoder.writer.op(0x8F)
        if !members.isEmpty {
            encoder.writer.op("(")
            for member in members { encoder.writer.string(member.key) }
            encoder.writer.op(0x90)
        }
        encoder.writer.string("__pydantic_private__")
        encoder.writer.op("N")
        encoder.writer.op("u")
        encoder.writer.op("b")
        return encoder.writer.finished(protocol: version)
    }

    /// Keys of `actions` that google-adk 1.19–1.21's `EventActions` lacks (it is `extra='forbid'`),
    /// e.g. `transfer_reason`, `route`, `render_ui_widgets`, `set_model_response`: ``encode(_:protocol:)``
    /// leaves them out, and callers report them.
    public static func fieldsUnknownToV0Era(_ actions: JSONObject) -> [String] {
        actions.keys.filter { !ModelSchema.v0EraEventActionsFields.contains($0) }
    }
}
