import SessionModel

/// How one pydantic model class of ADK 2.13 validates and dumps, as far as the JSON of a v0 row
/// depends on it. The table (``generated``) is produced by `make_fixtures.py schema` from the
/// real classes; it also lists the enums and other globals ADK's restricted unpickler allows.
struct ModelSchema: Sendable {
    /// What a field's annotation means for the values it holds.
    indirect enum FieldType: Sendable {
        /// `Any`/`object` somewhere: free-form data, dumped as Python values (models as full dicts).
        case any
        /// A plain value (`Optional[str]`, `int`, `bool`, an enum, a `Literal`, a union of those).
        case scalar
        /// Exactly `str`: validation refuses anything else (matters when choosing a union member).
        case str
        /// `float`: an `int` becomes a float.
        case float
        /// `bytes`: base64 or UTF-8 text in JSON, per the owning model's config.
        case bytes
        /// A pydantic model, by `module.qualname`.
        case model(String)
        /// A union of models; pydantic's smart mode picks the member.
        case union([String])
        /// `list[T]`.
        case list(FieldType)
        /// `dict[str, T]`.
        case dict(FieldType)
    }

    /// One model field, in declaration order.
    struct Field: Sendable {
        let name: String
        let type: FieldType
        /// The JSON of a non-None default (pydantic fills it in when validating a dict without it).
        let defaultValue: JSONValue?
        let required: Bool
        /// False when the field has an alias and the model does not validate by name (fastapi's
        /// `type_`/`in_`): a dict key with the field's name is then an extra, not the field.
        let byName: Bool
        /// The key `model_dump(by_alias=True)` writes (camelCase for ADK and genai models).
        let serializationName: String

        init(
            _ name: String, _ type: FieldType, default defaultValue: JSONValue? = nil, required: Bool = false,
            byName: Bool = true, alias: String? = nil
        ) {
            self.name = name
            self.type = type
            self.defaultValue = defaultValue
            self.required = required
            self.byName = byName
            self.serializationName = alias ?? name
        }
    }

    /// `extra='allow'` (unknown keys kept after the fields) rather than `'forbid'`.
    let allowsExtra: Bool
    /// `ser_json_bytes='base64'` (google.genai types) rather than pydantic's UTF-8 default.
    let base64Bytes: Bool
    /// Allowed model classes this one inherits from, nearest first.
    let bases: [String]
    let fields: [Field]
    let fieldNames: Set<String>

    init(allowsExtra: Bool, base64Bytes: Bool, bases: [String] = [], fields: [Field]) {
        self.allowsExtra = allowsExtra
        self.base64Bytes = base64Bytes
        self.bases = bases
        self.fields = fields
        self.fieldNames = Set(fields.map(\.name))
    }

    /// The field named `name`, if the model has one.
    func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// `google.adk.auth.auth_tool.AuthConfig`.
    static let authConfigClass = "google.adk.auth.auth_tool.AuthConfig"

    /// `google.adk.events.event_actions.EventActions`.
    static let eventActionsClass = "google.adk.events.event_actions.EventActions"

    /// The `EventActions` fields of google-adk 1.19.0–1.21.0, the releases that wrote schema v0.
    static let v0EraEventActionsFields: Set<String> = [
        "skip_summarization", "state_delta", "artifact_delta", "transfer_to_agent", "escalate",
        "requested_auth_configs", "requested_tool_confirmations", "compaction", "end_of_agent",
        "agent_state", "rewind_before_invocation_id",
    ]
}
