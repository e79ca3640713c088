import ArgumentParser
import SessMigrate

extension SessMigrateCommand {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a store's layout or schema version, counts and update-time range.")

        @Argument(help: "The store address (see sessmigrate --help).")
        var store: String

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let address = try storeOptions.address(store)
                let report = try Inspector(opener: StoreOpener()).inspect(address)
                Terminal.output(format == .json ? Rendering.inspectJSON(report) : Rendering.inspectText(report))
            }
        }
    }
}
