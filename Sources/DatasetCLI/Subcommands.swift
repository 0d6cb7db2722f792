import ArgumentParser

extension DatasetCommand {
  /// Every subcommand, in the order `dataset --help` lists them.
  static let allSubcommands: [ParsableCommand.Type] = [ImportCommand.self, SynthCommand.self]
}
