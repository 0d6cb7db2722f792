import ArgumentParser

extension DatasetCommand {
  /// Every subcommand, in the order `dataset --help` lists them.
  static let allSubcommands: [ParsableCommand.Type] = [
    ImportCommand.self, ValidateCommand.self, BuildCommand.self,
    VerifyCommand.self, ListCommand.self, ShowCommand.self, DiffCommand.self,
    ArrowRoundTripCommand.self, ArrowSampleCommand.self, SynthCommand.self,
    FeaturesCSVCommand.self,
  ]
}
