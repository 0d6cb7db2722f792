// The manifest of a real build is written by `PrettyJSONEncoder`; its bytes must be those
// Foundation's `JSONEncoder` gave before, so manifests written by earlier builds and by this one
// are the same function of their content.
import Foundation
import Snapshots
import Testing

@Suite struct ManifestBytesTests {
  @Test func aRealBuildsManifestIsJSONEncodersBytes() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let db = try SmallSource.copy(to: scratch.path("league.sqlite"))
    let out = scratch.path("Datasets")
    let result = try runCLI(buildArguments(db: db, out: out, batchRows: 4096))
    #expect(result.status == 0, "\(result)")
    let onDisk = fileBytes(out + "/rel/v1/manifest.json")
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(onDisk))
    var reference = Array(try Manifest.encoder().encode(manifest))
    reference.append(0x0A)
    #expect(onDisk == reference)
    #expect(!manifest.gates.isEmpty && !manifest.stats.isEmpty)
  }
}
