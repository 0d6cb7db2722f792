import ArgumentParser

extension DatasetCommand {
  /// Every subcommand, in the order `dataset --help` lists them (hidden debug commands last).
  static let allSubcommands: [ParsableCommand.Type] = [
    ImportCommand.self,
    ValidateCommand.self,
    BuildCommand.self,
    VerifyCommand.self,
    ListCommand.self,
    ShowCommand.self,
    DiffCommand.self,
    ReportCommand.self,
    SynthCommand.self,
    ArrowRoundTripCommand.self,
    ArrowSampleCommand.self,
    FeaturesCSVCommand.self,
  ]
}
