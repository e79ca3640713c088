import DriverCore
import Foundation
import Journal
import SessMigrate
import SessionModel

extension RunbookRunner {
    /// Steps that wrote into a store record its ``SessionStore/writeEpoch()`` (`target_epoch`). A Redis
    /// target that restarted since (a new `run_id`) may have lost those writes (no persistence, or the
    /// last second of `everysec`), so such a step and every later step that is not a gate run again:
    /// `step_reopened` events, last step first, so the journal stays in runbook order. Otherwise a
    /// resumed run would re-run only the failing verify, forever.
    /// Returns whether any step was reopened.
    @discardableResult
    func reopenStepsWhoseTargetRestarted(_ journal: JournalFile, record: (String, JournalEventKind, JSONObject) throws -> Void) throws -> Bool {
        let machine = try JournalStateMachine(
            stepIDs: document.steps.map(\.id), gateStepIDs: Set(document.steps.filter { $0.kind == .gate }.map(\.id)), events: try journal.events())
        guard !machine.isRunFinishedRecorded else { return false }
        var first: Int?
        var reason = ""
        for (index, spec) in document.steps.enumerated() {
            guard let detail = machine.detail(ofStep: spec.id), let recorded = detail["target_epoch"]?.stringValue,
                let text = spec.values["target"],
                let address = try? StoreAddress.parse(variables.substitute(text, outputs: machine.outputs()), environment: variables.environment)
            else { continue }
            let current = try? Self.writeEpoch(of: address)
            if let current, current != recorded {
                first = index
                reason = "\(address) restarted since step '\(spec.id)' wrote into it (a new server process) and may have lost its writes"
                break
            }
        }
        guard let first else { return false }
        note("\(reason): step '\(document.steps[first].id)' and the steps after it run again")
        for spec in document.steps[first...].reversed() where spec.kind != .gate && machine.detail(ofStep: spec.id) != nil {
            try record(spec.id, .stepReopened, ["reason": .string(reason)])
        }
        return true
    }

    /// A verify step with `reopen_on_failure: STEP` that failed: STEP (a converge) and the steps after it
    /// run again, at most ``maxReopenings`` times per run, so writes that reached the old primary after
    /// the last pass (a drain window that was too short) are carried over instead of failing for good.
    func reopenAfterFailedVerify(
        _ spec: StepSpec, _ journal: JournalFile, record: (String, JournalEventKind, JSONObject) throws -> Void
    ) throws -> Bool {
        guard let target = spec.values["reopen_on_failure"], let from = document.steps.firstIndex(where: { $0.id == target }) else { return false }
        let events = try journal.events()
        let earlier = events.filter { $0.kind == .stepReopened && $0.step == target }.count
        guard earlier < Self.maxReopenings else { return false }
        let machine = try JournalStateMachine(
            stepIDs: document.steps.map(\.id), gateStepIDs: Set(document.steps.filter { $0.kind == .gate }.map(\.id)), events: events)
        let reason =
            "step '\(spec.id)' found sessions of the old primary missing in the new one; step '\(target)' runs again (\(earlier + 1) of \(Self.maxReopenings))"
        note(reason)
        for step in document.steps[from...].reversed() where step.kind != .gate && machine.detail(ofStep: step.id) != nil {
            try record(step.id, .stepReopened, ["reason": .string(reason)])
        }
        return true
    }

    /// How many times a failed verify may send a run back to its converge step.
    static let maxReopenings = 3

    /// The store's write epoch, asked over a short read-only connection.
    static func writeEpoch(of address: StoreAddress) throws -> String? {
        if address.isFile { return nil }
        let store = try StoreOpener().open(address, forWriting: false)
        defer { try? store.close() }
        return try store.writeEpoch()
    }
}
