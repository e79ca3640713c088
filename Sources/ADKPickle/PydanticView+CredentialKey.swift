import SessionModel

extension PydanticView {
    /// The `credential_key` ADK 2.13's `AuthConfig.__init__` derives when a pickled AuthConfig
    /// has none (ADK < 1.5 did not have the field): a `credential_key` extra of the raw credential
    /// or of the scheme, else `adk_{scheme type}_{digest(scheme)}_{auth type}_{digest(credential)}`
    /// (`..._` without a raw credential). A digest is the first 16 hex digits of the SHA-256 of
    /// the model's `model_dump(by_alias=True, exclude_none=True, mode="json")` without its extras,
    /// as `json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))`; the credential's
    /// OAuth2 flow state (tokens, codes, URIs, expiry) is cleared first.
    func derivedCredentialKey(_ values: [String: PickleValue], path: String, depth: Int) throws(PickleError) -> String {
        let credential = values["raw_auth_credential"].flatMap { $0 == .none ? nil : $0 }
        let credentialModel = try credential.flatMap { value throws(PickleError) in
            try resolve(value, oneOf: ["google.adk.auth.auth_credential.AuthCredential"], path: path)
        }
        var schemeModel: (Entries, String, ModelSchema)?
        let schemeType = ModelSchema.generated[ModelSchema.authConfigClass]?.field(named: "auth_scheme")?.type
        if let scheme = values["auth_scheme"], case .union(let members)? = schemeType {
            schemeModel = try resolve(scheme, oneOf: members, path: path)
        }
        for (entries, _, schema) in [credentialModel, schemeModel].compactMap({ $0 }) {
            let fieldKeys = Set(schema.fields.filter(\.byName).map(\.name))
            for key in ["credential_key", "credentialKey"] where !fieldKeys.contains(key) {
                if let text = entries.last(where: { $0.key == key })?.value.stringValue, !text.isEmpty { return text }
            }
        }
        guard let (entries, className, schema) = schemeModel else { throw failure(path, "an AuthConfig without auth_scheme") }
        let scheme = try validate(entries, schema, className: className, path: path, depth: depth + 1, includeExtras: false)
        var key = "adk_\(scheme["type_"]?.stringValue ?? "None")_\(digest(scheme, schema))_"
        if let (entries, className, schema) = credentialModel {
            var fields = try validate(entries, schema, className: className, path: path, depth: depth + 1, includeExtras: false)
            if var oauth2 = fields["oauth2"]?.objectValue {
                for name in Self.oauth2FlowState { oauth2[name] = nil }
                fields["oauth2"] = .object(oauth2)
            }
            key += "\(fields["auth_type"]?.stringValue ?? "None")_\(digest(fields, schema))"
        }
        return key
    }

    /// The OAuth2Auth fields `get_credential_key` sets to None before hashing.
    private static let oauth2FlowState = [
        "auth_uri", "state", "auth_response_uri", "auth_code", "access_token", "refresh_token", "expires_at", "expires_in", "redirect_uri",
    ]

    private func digest(_ fields: JSONObject, _ schema: ModelSchema) -> String {
        var sha = SHA256()
        sha.update(sortedKeys(aliased(.object(fields), .model(""), schema: schema)).serializedBytes(.compact))
        return String(SHA256.hexString(sha.finalize()).prefix(16))
    }

    /// Field names replaced by their serialization aliases, following the field types down.
    private func aliased(_ value: JSONValue, _ type: ModelSchema.FieldType, schema: ModelSchema? = nil) -> JSONValue {
        switch (type, value) {
        case (.model(let className), .object(let object)):
            guard let schema = schema ?? ModelSchema.generated[className] else { return value }
            return .object(
                JSONObject(
                    object.members.map { member in
                        guard let field = schema.field(named: member.key) else { return member }
                        return (field.serializationName, aliased(member.value, field.type))
                    }))
        case (.list(let inner), .array(let items)):
            return .array(items.map { aliased($0, inner) })
        case (.dict(let inner), .object(let object)):
            return .object(JSONObject(object.members.map { ($0.key, aliased($0.value, inner)) }))
        default:
            return value
        }
    }

    /// Python's `sort_keys`: keys in code point order (= UTF-8 byte order), at every level.
    private func sortedKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map(sortedKeys))
        case .object(let object):
            let members = object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(JSONObject(members.map { ($0.key, sortedKeys($0.value)) }))
        default:
            return value
        }
    }
}
