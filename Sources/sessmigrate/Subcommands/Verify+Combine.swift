import ArgumentParser
import Foundation
import SessMigrate
import SessionModel

extension SessMigrateCommand.Verify {
    /// `verify --combine R…`: one verdict from the shards' `--format json` reports.
    func runCombine() throws {
        let reports = try combine.map { path -> ShardReport in
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageFailure(message: "cannot read the report \(path)") }
            do {
                return try ShardReport(name: path, document: try JSONValue.parseObject(String(decoding: data, as: UTF8.self)))
            } catch let error as JSONError {
                throw ShardReportError("\(path) is not JSON (\(error))")
            }
        }
        let combined = try CombinedReport.combine(reports)
        let shards = combined.shards == 1 ? "1 report" : "\(combined.shards) shards"
        if combined.mode == "equal" {
            let summary = combined.diff
            if format == .json {
                let document: JSONObject = [
                    "format": .number(JSONNumber(1)), "a": .string(combined.a), "b": .string(combined.b), "mode": .string("equal"),
                    "shards": .number(JSONNumber(combined.shards)), "summary": DiffRenderer.summaryJSON(summary),
                ]
                Terminal.output(document.serialized(.python))
            } else {
                for line in DiffRenderer.skippedText(summary) { Terminal.output(line) }
                Terminal.output("verify: \(DiffRenderer.verdict(summary))  (\(shards) of \(combined.a) vs \(combined.b)) " + DiffRenderer.summaryText(summary))
            }
            if !summary.isIdentical { throw ExitCode(1) }
            return
        }
        var document = combined.containment
        document["a"] = .string(combined.a)
        document["b"] = .string(combined.b)
        document["shards"] = .number(JSONNumber(combined.shards))
        func count(_ key: String) -> Int { Int(document[key]?.doubleValue ?? 0) }
        let (failures, skipped) = (count("failure_count"), count("skipped_count"))
        if format == .json {
            Terminal.output(document.serialized(.python))
        } else {
            for failure in document["failures"]?.arrayValue ?? [] { Terminal.output("not in B: \(failure.stringValue ?? "")") }
            let verdict = failures > 0 ? "NOT CONTAINED" : skipped > 0 ? "INCOMPLETE" : "CONTAINED"
            Terminal.output(
                "verify: \(verdict)  (\(shards) of \(combined.a) vs \(combined.b)) \(count("sessions_contained")) of \(count("sessions_in_a")) "
                    + "sessions of A contained in B, \(count("pending_converge")) pending converge, \(count("expired")) not copied by the expiry "
                    + "policy, \(count("only_in_b")) only in B, \(failures) NOT in B, \(skipped) skipped")
        }
        if failures > 0 || skipped > 0 { throw ExitCode(1) }
    }
}
