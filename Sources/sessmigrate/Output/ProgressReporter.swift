import Foundation

/// Progress on stderr: a line rewritten in place on a terminal, a plain line every few seconds
/// otherwise (logs and CI).
final class ProgressReporter<Value> {
    private let render: (Value) -> String
    private let interactive = Terminal.stderrIsTerminal
    private var lastPrinted = Date()  // The first line comes after one interval: quick runs print none.
    private var printedTransient = false

    init(render: @escaping (Value) -> String) {
        self.render = render
    }

    func update(_ value: Value) {
        let interval: TimeInterval = interactive ? 0.2 : 5
        guard Date().timeIntervalSince(lastPrinted) >= interval else { return }
        lastPrinted = Date()
        Terminal.progress(render(value), transient: interactive)
        printedTransient = interactive
    }

    func finish() {
        if printedTransient { Terminal.progress("", transient: true) }
    }
}
