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
    let text = try #require(FeatureSetSpec.builtIn["props_v1"])
    let spec = try FeatureSetSpec.parse(bytes: Array(text.utf8), path: "built-in props_v1")
    let source = ResolvedSource(
      database: try database.get(), seasons: [ResolvedSeason(given: "2021", startYear: 2021, label: "2021-22")],
      startDate: nil, endDate: nil, thresholds: thresholds, configSources: [], overrides: overrides,
      resolvedAtMicros: 0, onNote: { notes.append($0) })
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
