// The feature sets built into the binary (for a copied or installed `dataset`) must be the
// shipped Schemas/features files byte for byte: the manifest records the spec's SHA-256, so a
// build with the built-in copy and one with the file must record the same feature set.
import Features
import Foundation
import Testing

@Suite struct BuiltInFeatureSetTests {
  @Test func builtInCopiesAreTheSchemaFilesByteForByte() throws {
    let dir = repoRoot.appendingPathComponent("Schemas/features").path
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.sorted()
    #expect(
      FeatureSetSpec.builtIn.keys.sorted() == files.map { String($0.dropLast(5)) },
      "run scripts/embed-feature-sets.sh after adding or removing a spec")
    for file in files {
      let name = String(file.dropLast(5))
      let bytes = try #require(FileManager.default.contents(atPath: dir + "/" + file))
      #expect(
        Array(FeatureSetSpec.builtIn[name]?.utf8 ?? "".utf8) == [UInt8](bytes),
        "\(file) differs from its built-in copy: run scripts/embed-feature-sets.sh")
      let fromFile = try FeatureSetSpec.load(path: dir + "/" + file)
      let builtIn = try FeatureSetSpec.parse(bytes: Array(try #require(FeatureSetSpec.builtIn[name]).utf8))
      #expect(builtIn.rawBytes == fromFile.rawBytes)
      #expect(builtIn.columns.map(\.name) == fromFile.columns.map(\.name))
    }
  }
}
