import Features
import Foundation
import Gates
import Pipeline
import Snapshots
import Synth
import TestSupport
import Testing

/// `BuildPipeline.run` called as a library user would: no CLI, no process, notes and events
/// through closures.
@Suite struct BuildPipelineTests {
  static let database: Result<String, Error> = Result {
    let path = TestScratch.folder("pipeline-source") + "/league.sqlite"
    _ = try SynthDatabase.generate(SynthOptions(databasePath: path, seasons: 1, firstSeason: 2021, seed: 11))
    return path
  }

  /// Notes arrive on whichever thread made them.
  final class Notes: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
  }

  static func request(
    out: String, thresholds: GateConfig = .defaults, overrides: [GateOverride] = [], notes: Notes
  ) throws -> BuildRequest {
    let spec = try #require(FeatureSetSpec.builtIn(named: "props_v1"))
    let source = ResolvedSource(
      database: try database.get(), seasons: [ResolvedSeason(startYear: 2021)], thresholds: thresholds,
      overrides: overrides, onNote: { notes.append($0) })
    return BuildRequest(source: source, featureSet: spec, dataset: "props_v1", out: out)
  }

  @Test func publishesOnceThenFindsTheSameContent() throws {
    let out = TestScratch.folder("pipeline-publish")
    let notes = Notes()
    // An override of a gate that passes is not recorded, and the build says so.
    let request = try Self.request(
      out: out, overrides: [GateOverride(gate: "duplicate_keys", reason: "test")], notes: notes)
    var steps: [Int] = []
    var events = BuildEvents()
    events.progress = { steps.append($0) }
    events.refused = { Issue.record("refused a build whose gates pass: \($0.verdict)") }

    let first = try BuildPipeline.run(request, events: events)
    guard case .published(let version, let path) = first.result.outcome else {
      Issue.record("expected a published version, got \(first.result.outcome)")
      return
    }
    #expect(version == "v1")
    #expect(path.hasPrefix(out))
    #expect(SnapshotStore(root: out).versions("props_v1") == ["v1"])
    let manifest = first.result.manifest
    #expect(manifest.config.seasons == ["2021-22"])
    #expect(manifest.config.overrides.isEmpty)
    #expect(manifest.files.map(\.path) == ["2021-22.arrow"])
    #expect(manifest.gates.last?.name == "point_in_time" && manifest.gates.last?.status == "pass")
    #expect(first.report.passed)
    #expect(steps.first == 1 && steps.last == request.steps)
    let unneeded = "--override duplicate_keys was not needed (the gate did not fail); it is not recorded"
    #expect(notes.all == [unneeded])
    #expect(first.notes == [unneeded])
    let verified = Verifier(format: ArrowDataFileFormat()).verify(path: path)
    #expect(verified.ok, "\(verified.problems)")

    let second = try BuildPipeline.run(request)
    #expect(second.result.outcome == .unchanged(latest: "v1", path: path))
    #expect(SnapshotStore(root: out).versions("props_v1") == ["v1"])
  }

  /// A library review built, by hand, requests the CLI never makes; each published a version
  /// that verify failed, or crashed the process. Each is now a usage failure before any read.
  @Test func aRequestTheCLIWouldRefuseIsRefusedBeforeAnythingIsWritten() throws {
    let out = TestScratch.folder("pipeline-checks")
    let published = TestScratch.folder("pipeline-checks-published")
    _ = try BuildPipeline.run(try Self.request(out: published, notes: Notes()))
    func refusal(_ change: (inout BuildRequest) -> Void) throws -> CommandFailure? {
      var request = try Self.request(out: out, notes: Notes())
      change(&request)
      do { _ = try BuildPipeline.run(request) } catch let failure as CommandFailure { return failure }
      return nil
    }
    let cases: [(String, (inout BuildRequest) -> Void)] = [
      ("--batch-rows 0 is out of range", { $0.batchRows = 0 }),
      ("props_v1/v1, which is never modified", { $0.out = published + "/props_v1/v1" }),
      ("is a dataset folder (it holds v1)", { $0.out = published + "/props_v1" }),
      ("dataset name:", { $0.dataset = "../escape" }),
      (
        "expected the label 2021-22",
        { $0.source.seasons = [ResolvedSeason(given: "2021", startYear: 2021, label: "2021")] }
      ),
      ("needs a non-empty reason", { $0.source.overrides = [GateOverride(gate: "usage_rate_coverage", reason: " ")] }),
      ("unknown gate 'bogus'", { $0.source.overrides = [GateOverride(gate: "bogus", reason: "why")] }),
      ("cannot be overridden", { $0.source.overrides = [GateOverride(gate: "point_in_time", reason: "why")] }),
    ]
    for (expected, change) in cases {
      let failure = try refusal(change)
      #expect(failure?.status == .usage, "\(expected): \(String(describing: failure))")
      #expect(failure?.message.contains(expected) == true, "\(String(describing: failure?.message))")
    }
    #expect((try? FileManager.default.contentsOfDirectory(atPath: out)) == [])
    #expect(SnapshotStore(root: published).versions("props_v1") == ["v1"])
    #expect(ResolvedSeason(startYear: 2021) == ResolvedSeason(given: "2021-22", startYear: 2021, label: "2021-22"))
  }

  /// A source that cannot be used reached a library caller as a bare SourceError, without the
  /// exit status and reason the CLI gave it.
  @Test func anUnusableSourceIsACommandFailureWithItsReason() throws {
    let out = TestScratch.folder("pipeline-source-errors")
    var future = try Self.request(out: out, notes: Notes())
    future.source.seasons = [ResolvedSeason(startYear: 2099)]
    do {
      _ = try BuildPipeline.run(future)
      Issue.record("a season the database lacks was built")
    } catch let failure as CommandFailure {
      #expect(failure.status == .unusableInput && failure.reason == .noRowsInWindow, "\(failure)")
    }
    var missing = try Self.request(out: out, notes: Notes())
    missing.source.database = out + "/no-such.sqlite"
    do {
      _ = try BuildPipeline.run(missing)
      Issue.record("a missing database was built")
    } catch let failure as CommandFailure {
      #expect(failure.status == .unusableInput && failure.message.contains("no-such.sqlite"), "\(failure)")
    }
  }

  /// README.md's library snippet, as written there but for the database and folder.
  @Test func theREADMESnippetRuns() throws {
    let database = try Self.database.get(), datasets = TestScratch.folder("pipeline-readme")
    let source = ResolvedSource(
      database: database, seasons: [ResolvedSeason(startYear: 2021)],
      onNote: { print("note:", $0) })
    var events = BuildEvents()
    events.refused = { report in print(report.verdict) }
    let request = BuildRequest(
      source: source, featureSet: FeatureSetSpec.builtIn(named: "props_v1")!, dataset: "props_v1", out: datasets)
    do {
      let built = try BuildPipeline.run(request, events: events)
      #expect(built.result.outcome == .published(version: "v1", path: datasets + "/props_v1/v1"))
    } catch let failure as CommandFailure {
      Issue.record("\(failure.status) \(String(describing: failure.reason)): \(failure.message)")
    }
    let readme = try String(
      contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"),
      encoding: .utf8)
    #expect(readme.contains("seasons: [ResolvedSeason(startYear: 2023)],  // 2023-24"))
    #expect(
      readme.contains(
        "source: source, featureSet: FeatureSetSpec.builtIn(named: \"props_v1\")!, dataset: \"props_v1\", out: \"Datasets\")"
      ))
  }

  @Test func aFailedGateIsReportedThenThrownAndNothingIsPublished() throws {
    let out = TestScratch.folder("pipeline-refused")
    var strict = GateConfig.defaults
    // Any duplicate key fails; a count above -1 is any count at all.
    strict.duplicateKeysFailAbove = -1
    let request = try Self.request(out: out, thresholds: strict, notes: Notes())
    var refusals: [GateReport] = []
    var events = BuildEvents()
    events.refused = { refusals.append($0) }
    do {
      _ = try BuildPipeline.run(request, events: events)
      Issue.record("a build with a failing gate returned")
    } catch let failure as CommandFailure {
      #expect(failure.status == .gateFailed)
      #expect(failure.message.contains("nothing was written"))
    }
    #expect(refusals.count == 1)
    let failed = refusals.first?.gates.filter { $0.status == .fail }.map(\.name)
    #expect(failed == ["duplicate_keys"])
    #expect(SnapshotStore(root: out).versions("props_v1").isEmpty)
  }
}
