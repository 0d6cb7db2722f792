// A `dataset` binary copied to a scheduler's host runs away from the repository: no Schemas
// folder beside it or under the working directory. It must still build, with the feature set
// and gate defaults built into it, and record the same feature set as a build in the repo.
import Foundation
import Testing

@Suite struct CopiedBinaryTests {
  func manifest(_ path: String) throws -> [String: Any] {
    let data = try #require(FileManager.default.contents(atPath: path))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  @Test func copiedBinaryBuildsWithTheBuiltInFeatureSet() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    try FileManager.default.createDirectory(atPath: s.path("bin"), withIntermediateDirectories: true)
    // Copied by cp, not in this process: a descriptor open for writing here would leak into
    // any child that another test spawns meanwhile, and exec of the copy would then fail with
    // "text file busy".
    let copied = try runTool("/bin/cp", [Repo.binary, s.path("bin/dataset")])
    #expect(copied.status == 0, "\(copied)")
    #expect(!FileManager.default.fileExists(atPath: s.path("Schemas")))

    let away = try runTool(
      "/bin/sh",
      [
        "-c",
        "cd \"$1\" && exec ./bin/dataset build --quiet --db league.sqlite --season 2022-23 --include-bootstrap --out away",
        "sh", s.dir,
      ])
    #expect(away.status == 0, "\(away)")
    let inRepo = try runCLI([
      "build", "--quiet", "--db", db, "--season", "2022-23", "--include-bootstrap", "--out", s.path("repo"),
    ])
    #expect(inRepo.status == 0, "\(inRepo)")

    let a = try manifest(s.path("away/props_v1/v1/manifest.json"))
    let b = try manifest(s.path("repo/props_v1/v1/manifest.json"))
    let featureSet = try #require(a["feature_set"] as? [String: String])
    #expect(featureSet == b["feature_set"] as? [String: String])
    #expect(featureSet["name"] == "props_v1")
    #expect(a["content_sha256"] as? String == b["content_sha256"] as? String)

    // features-csv resolves --feature-set the same way (its default was a repo-relative path).
    let csv = try runTool(
      "/bin/sh",
      [
        "-c",
        "cd \"$1\" && exec ./bin/dataset features-csv --db league.sqlite --season 2022-23 --include-bootstrap --out x.csv",
        "sh", s.dir,
      ])
    #expect(csv.status == 0, "\(csv)")
    #expect(csv.stdout.hasPrefix("props_v1: "), "\(csv)")

    let unknown = try runTool(
      "/bin/sh",
      [
        "-c", "cd \"$1\" && exec ./bin/dataset build --db league.sqlite --season 2022-23 --feature-set nope --out away",
        "sh", s.dir,
      ])
    // A feature set that is nowhere is a missing file: exit 3 (gates.md), like a missing --db.
    #expect(unknown.status == 3)
    #expect(
      unknown.stderr.contains("no built-in feature set of that name (built in: example_minutes_v1, props_v1)"),
      "\(unknown)")
  }
}

extension CopiedBinaryTests {
  /// README: a `Schemas/` folder beside a copied binary is used first. The lookup went only to
  /// `<exe>/../../Schemas` and `./Schemas`, so a scheduler host's own folder was ignored without
  /// a word (session 13 docs review).
  @Test func schemasBesideACopiedBinaryAreUsed() throws {
    let s = Scratch()
    defer { s.remove() }
    _ = try SmallSource.copy(to: s.path("league.sqlite"))
    try FileManager.default.createDirectory(
      atPath: s.path("host/bin/Schemas/features"), withIntermediateDirectories: true)
    let copied = try runTool("/bin/cp", [Repo.binary, s.path("host/bin/dataset")])
    #expect(copied.status == 0, "\(copied)")
    let shipped = try String(contentsOfFile: Repo.root + "/Schemas/features/example_minutes_v1.json", encoding: .utf8)
    s.write(
      "host/bin/Schemas/features/host_minutes_v1.json",
      shipped.replacingOccurrences(of: "\"example_minutes_v1\"", with: "\"host_minutes_v1\""))
    let build = try runTool(
      "/bin/sh",
      [
        "-c",
        "cd \"$1\" && exec ./host/bin/dataset build --quiet --db league.sqlite --season 2022-23 --include-bootstrap --feature-set host_minutes_v1 --out out",
        "sh", s.dir,
      ])
    #expect(build.status == 0, "\(build)")
    let m = try manifest(s.path("out/host_minutes_v1/v1/manifest.json"))
    #expect((m["feature_set"] as? [String: String])?["name"] == "host_minutes_v1")
    // Gate defaults beside it too: a threshold changed there is the one applied.
    let defaults = try String(contentsOfFile: Repo.root + "/Schemas/gates.default.json", encoding: .utf8)
    let changed = defaults.replacingOccurrences(
      of: "\"pcf_date_coverage\": {\n    \"fail_below_percent\": 95",
      with: "\"pcf_date_coverage\": {\n    \"fail_below_percent\": 93")
    #expect(changed != defaults)
    s.write("host/bin/Schemas/gates.default.json", changed)
    let validate = try runTool(
      "/bin/sh",
      ["-c", "cd \"$1\" && exec ./host/bin/dataset validate --db league.sqlite --season 2022-23", "sh", s.dir])
    #expect(validate.stdout.contains("fail below 93 %"), "\(validate)")
  }
}

/// Foundation's `NSString.deletingLastPathComponent` traps on a one-character relative path:
/// `build --out Q` died with SIGILL creating the folder, and `verify Q` would have too.
@Suite struct ShortPathTests {
  @Test func oneLetterFoldersBuildAndVerify() throws {
    let s = Scratch()
    defer { s.remove() }
    _ = try SmallSource.copy(to: s.path("league.sqlite"))
    let binary = Repo.binary
    func inScratch(_ arguments: String) throws -> CLIResult {
      try runTool("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" \(arguments)", "sh", s.dir, binary])
    }
    let build = try inScratch("build --quiet --db league.sqlite --season 2022-23 --include-bootstrap --out Q")
    #expect(build.signal == nil && build.status == 0, "\(build)")
    let nested = try inScratch("build --quiet --db league.sqlite --season 2022-23 --include-bootstrap --out a/b")
    #expect(nested.signal == nil && nested.status == 0, "\(nested)")
    for target in ["Q", "Q/", "Q/props_v1", "a/b/props_v1/v1", "a/b/props_v1/v1/manifest.json"] {
      let verify = try inScratch("verify \(target)")
      #expect(verify.signal == nil && verify.status == 0, "\(target): \(verify)")
    }
    let inside = try runTool("/bin/sh", ["-c", "cd \"$1\"/Q && exec \"$2\" verify props_v1", "sh", s.dir, binary])
    #expect(inside.status == 0, "\(inside)")
  }
}
