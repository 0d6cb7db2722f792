import Columnar
import Foundation
import Testing

@testable import Snapshots

@Suite struct StoreTests {
  @Test func manifestBytesAreDeterministicAndKeysSorted() throws {
    let root = Fixture.scratch()
    let result = try Fixture.builder(root: root).build(
      Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 50, seed: 1))]))
    let first = try result.manifest.encoded()
    #expect(try result.manifest.encoded() == first)
    #expect(Fixture.bytes("\(root)/props/v1/manifest.json") == first)
    // Every object's keys appear in sorted order: check the top level and the config block.
    let text = String(decoding: first, as: UTF8.self)
    let topKeys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
    #expect(topKeys == topKeys.sorted())
    #expect(
      topKeys == [
        "built_with_overrides", "config", "content_sha256", "created_at", "dataset", "feature_set", "files", "format",
        "gates", "parent_version", "row_count", "schema", "source", "stats", "tool", "version",
      ])
    #expect(text.contains("\"parent_version\" : null"))
    #expect(text.contains("\"created_at\" : \"2026-09-21T14:13:20Z\""))
  }

  /// `encoded()` goes through `PrettyJSONEncoder`; its bytes are `JSONEncoder`'s, as they
  /// were before, on manifests of one and of two seasons, the second with a parent.
  @Test func manifestBytesAreFoundationsJSONEncoders() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    let first = try builder.build(
      Fixture.inputs(seasons: [
        ("2021-22", Fixture.table(rows: 40, seed: 3)), ("2022-23", Fixture.table(rows: 70, seed: 4)),
      ]))
    let second = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 90, seed: 5))]))
    for manifest in [first.manifest, second.manifest] {
      var reference = Array(try Manifest.encoder().encode(manifest))
      reference.append(0x0A)
      #expect(try manifest.encoded() == reference)
    }
    #expect(second.manifest.parentVersion == "v1")
  }

  @Test func secondBuildOfSameInputsPublishesNothing() throws {
    let root = Fixture.scratch()
    let inputs = Fixture.inputs(seasons: [
      ("2021-22", Fixture.table(rows: 40, seed: 1)), ("2022-23", Fixture.table(rows: 70, seed: 2)),
    ])
    let first = try Fixture.builder(root: root).build(inputs)
    #expect(first.outcome == .published(version: "v1", path: "\(root)/props/v1"))
    let dataBefore = Fixture.bytes("\(root)/props/v1/2022-23.arrow")
    let second = try Fixture.builder(root: root).build(inputs)
    #expect(second.outcome == .unchanged(latest: "v1", path: "\(root)/props/v1"))
    #expect(SnapshotStore(root: root).versions("props") == ["v1"])
    // Byte-identical data files: a fresh encode of the same table gives the published bytes.
    let again = try ArrowDataFileFormat().encode(
      inputs.seasons[1].table, batchRows: 64,
      metadata: SnapshotBuilder.fileMetadata(featureSet: inputs.featureSet))
    #expect(again == dataBefore)
    #expect(first.manifest.rowCount == 110)
    #expect(first.manifest.files.map(\.rows) == [40, 70])
  }

  @Test func changedContentOrConfigPublishesNextVersionWithParent() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    let v2 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    #expect(v2.outcome == .published(version: "v2", path: "\(root)/props/v2"))
    #expect(v2.manifest.parentVersion == "v1")
    // Same data, different point-in-time seed: config differs, so a new version.
    let v3 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))], seed: 8))
    #expect(v3.outcome == .published(version: "v3", path: "\(root)/props/v3"))
    #expect(try SnapshotStore(root: root).manifest("props", "v3").parentVersion == "v2")
  }

  /// A version folder made by hand (no manifest.json: a build never publishes one) takes its
  /// number, but the next version's parent is the newest published one, in the manifest
  /// written and in the one the build returns.
  @Test func aFolderWithoutManifestIsNoParent() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    try FileManager.default.createDirectory(atPath: "\(root)/props/v2", withIntermediateDirectories: true)
    let v3 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    #expect(v3.outcome == .published(version: "v3", path: "\(root)/props/v3"))
    #expect(v3.manifest.parentVersion == "v1")
    #expect(try SnapshotStore(root: root).manifest("props", "v3").parentVersion == "v1")
    // A published version whose manifest is damaged is still a version: it stays the parent.
    try Data("{".utf8).write(to: URL(fileURLWithPath: "\(root)/props/v3/manifest.json"))
    let v4 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 32, seed: 1))]))
    #expect(v4.manifest.parentVersion == "v3")
    #expect(try SnapshotStore(root: root).manifest("props", "v4").parentVersion == "v3")
  }

  /// snapshot.md: a published version is never overwritten. A latest version deleted or moved
  /// aside by hand (`mv v2 v2.bad`) used to give its name to the next build's different data.
  @Test func aRemovedVersionsNameIsNeverUsedAgain() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    try FileManager.default.moveItem(atPath: "\(root)/props/v2", toPath: "\(root)/props/v2.bad")
    let v3 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 32, seed: 1))]))
    #expect(v3.outcome == .published(version: "v3", path: "\(root)/props/v3"))
    #expect(v3.manifest.parentVersion == "v1")
    try FileManager.default.removeItem(atPath: "\(root)/props/v3")
    let v4 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 33, seed: 1))]))
    #expect(v4.outcome == .published(version: "v4", path: "\(root)/props/v4"))
    #expect(SnapshotStore(root: root).versions("props") == ["v1", "v4"])
    // v4's parent is v1 (v2 and v3 are gone): an earlier version, so verify has no complaint.
    #expect(v4.manifest.parentVersion == "v1")
    #expect(Verifier(format: ArrowDataFileFormat()).verify(path: root).problems == [])
    // Without the record (a dataset from before it, or the file removed), the folders decide.
    try FileManager.default.removeItem(atPath: "\(root)/props/\(SnapshotStore.lastVersionFile)")
    let v5 = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 34, seed: 1))]))
    #expect(v5.outcome == .published(version: "v5", path: "\(root)/props/v5"))
  }

  /// A file (not a folder) named like the next version blocked every later build with "File
  /// exists"; its number is now taken like a folder's.
  @Test func aFileNamedLikeAVersionIsSkipped() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    #expect(FileManager.default.createFile(atPath: "\(root)/props/v2", contents: Data("x".utf8)))
    let next = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    #expect(next.outcome == .published(version: "v3", path: "\(root)/props/v3"))
    #expect(next.manifest.parentVersion == "v1")
  }

  /// A folder with the largest version number made `build` trap (SIGILL, nothing printed):
  /// now an error naming it, and nothing is left behind.
  @Test func noVersionNumberPastTheLargest() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    try FileManager.default.createDirectory(atPath: "\(root)/props/v\(Int.max)", withIntermediateDirectories: true)
    #expect {
      try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    } throws: { error in
      guard case .noNextVersion(let path, let reason) = error as? SnapshotError else { return false }
      return path == "\(root)/props/v\(Int.max)" && reason.hasPrefix("no version number follows v\(Int.max)")
    }
    #expect(SnapshotStore(root: root).temporaryFolders("props").isEmpty)
    // Held by the record alone, the error names the record, the file to fix.
    try FileManager.default.removeItem(atPath: "\(root)/props/v\(Int.max)")
    try "v\(Int.max)\n".write(
      toFile: "\(root)/props/\(SnapshotStore.lastVersionFile)", atomically: false, encoding: .utf8)
    #expect {
      try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    } throws: { error in
      guard case .noNextVersion(let path, let reason) = error as? SnapshotError else { return false }
      return path == "\(root)/props/\(SnapshotStore.lastVersionFile)"
        && reason.hasPrefix("records v\(Int.max) as the last version")
    }
  }

  /// The record is never written through a link (a review's build overwrote the file a
  /// `.last-version` link pointed at), nor into a file a hard link shares.
  @Test func theVersionRecordReplacesLinksInsteadOfWritingThroughThem() throws {
    let root = Fixture.scratch()
    let builder = Fixture.builder(root: root)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    let record = "\(root)/props/\(SnapshotStore.lastVersionFile)"
    let victim = "\(root)/precious.txt", backup = "\(root)/backup-of-record"
    try "precious data\n".write(toFile: victim, atomically: false, encoding: .utf8)
    try FileManager.default.removeItem(atPath: record)
    try FileManager.default.createSymbolicLink(atPath: record, withDestinationPath: victim)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 31, seed: 1))]))
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious data\n")
    #expect(try String(contentsOfFile: record, encoding: .utf8) == "v2\n")
    #expect(try FileManager.default.attributesOfItem(atPath: record)[.type] as? FileAttributeType == .typeRegular)
    try FileManager.default.linkItem(atPath: record, toPath: backup)
    _ = try builder.build(Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 32, seed: 1))]))
    #expect(try String(contentsOfFile: backup, encoding: .utf8) == "v2\n")
    #expect(try String(contentsOfFile: record, encoding: .utf8) == "v3\n")
  }

  /// Builds before session 15 recorded an override of a gate that passed; today's leave it
  /// out. Such an override must not make the unchanged content a new version, while an override
  /// that let a failed gate through still counts.
  @Test func anOverrideThatOverrodeNothingIsNoChange() throws {
    let root = Fixture.scratch()
    let built = try Fixture.builder(root: root).build(
      Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    let today = built.manifest
    let gate = try #require(today.gates.first?.name)
    var older = today
    older.config.overrides = [Manifest.OverrideRecord(gate: gate, reason: "standing override")]
    older.builtWithOverrides = true
    #expect(SnapshotBuilder.sameContent(older, today))
    older.gates[0].override = "standing override"
    #expect(!SnapshotBuilder.sameContent(older, today))
  }

  /// A setting added to a newer tool (value_ranges' bounds, session 18) is absent from an older
  /// manifest; the older build applied the same number as a constant. The first build after an
  /// upgrade published a byte-identical new version of every dataset (a regression hunt).
  @Test func aSettingAnOlderManifestLacksCountsAtItsDefault() throws {
    let root = Fixture.scratch()
    var today = try Fixture.builder(root: root).build(
      Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))])
    ).manifest
    today.config.thresholds = Manifest.BuildConfig.defaultThresholds
    var older = today
    older.config.thresholds = today.config.thresholds.filter { !$0.key.hasSuffix("_max") }
    #expect(older.config.thresholds.count < today.config.thresholds.count)
    #expect(SnapshotBuilder.sameContent(older, today))
    #expect(Differ.configChanges(older.config, today.config).isEmpty)
    // A value that differs from the default still counts.
    var stricter = today
    stricter.config.thresholds["value_ranges.minutes_played_max"] = 60
    #expect(!SnapshotBuilder.sameContent(older, stricter))
    #expect(
      Differ.configChanges(older.config, stricter.config) == ["threshold value_ranges.minutes_played_max 70 → 60"])
  }

  /// A date's spelling is never a change; a window whose ends moved is one only when the files
  /// or a gate record differ (a daily `--end-date yesterday` over a finished season).
  @Test func theDateWindowCountsOnlyThroughWhatItSelects() throws {
    let root = Fixture.scratch()
    let built = try Fixture.builder(root: root).build(
      Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 30, seed: 1))]))
    var yesterday = built.manifest
    yesterday.config.dates = .init(endGiven: "yesterday", endResolved: "2026-11-27")
    var today = yesterday
    today.config.dates = .init(endGiven: "2026-11-28", endResolved: "2026-11-28")
    var spelled = today
    spelled.config.dates.endGiven = "TODAY"
    #expect(SnapshotBuilder.sameContent(today, spelled))
    #expect(SnapshotBuilder.sameContent(yesterday, today))
    // The same window ends with another gate record (the window cut a date out of a gate's
    // measure): a change.
    var measuredOtherwise = today
    measuredOtherwise.gates[0].figure += " (other)"
    #expect(!SnapshotBuilder.sameContent(yesterday, measuredOtherwise))
    // Other files: a change, whatever the dates.
    var otherFiles = today
    otherFiles.contentSHA256 = String(repeating: "0", count: 64)
    #expect(!SnapshotBuilder.sameContent(today, otherFiles))
    // The rest of the config still counts.
    var otherSeed = today
    otherSeed.config.pointInTimeSeed += 1
    #expect(!SnapshotBuilder.sameContent(today, otherSeed))
  }

  @Test func versionsSortNumericallyAndIgnoreOtherNames() throws {
    let root = Fixture.scratch()
    for name in ["v1", "v2", "v10", "v9", "v01", "vx", ".tmp-1-ab", "v3.bak"] {
      try FileManager.default.createDirectory(atPath: "\(root)/d/\(name)", withIntermediateDirectories: true)
    }
    #expect(SnapshotStore(root: root).versions("d") == ["v1", "v2", "v9", "v10"])
    #expect(SnapshotStore(root: root).latestVersion("d") == "v10")
  }

  @Test func temporaryFolderIsNeverAVersionAndDeadBuildsAreCleanedUp() throws {
    let root = Fixture.scratch()
    let store = SnapshotStore(root: root)
    // What a build killed mid-write leaves behind.
    try FileManager.default.createDirectory(atPath: "\(root)/props/.tmp-999999-dead", withIntermediateDirectories: true)
    Fixture.write("\(root)/props/.tmp-999999-dead/2022-23.arrow", [1, 2, 3])
    #expect(store.versions("props").isEmpty)
    var seenDuringBuild: ([String], [String]) = ([], [])
    let result = try Fixture.builder(root: root).build(
      Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 20, seed: 3))]),
      beforeRename: { seenDuringBuild = (store.versions("props"), store.temporaryFolders("props")) })
    // Just before the rename the new files are complete but only under a .tmp- name.
    #expect(seenDuringBuild.0 == [])
    #expect(seenDuringBuild.1.count == 1)
    #expect(seenDuringBuild.1.first?.hasPrefix(".tmp-\(getpid())-") == true)
    #expect(result.outcome == .published(version: "v1", path: "\(root)/props/v1"))
    #expect(store.temporaryFolders("props") == [])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: "\(root)/props/v1").sorted() == [
        "2022-23.arrow", "manifest.json",
      ])
  }

  @Test func secondLockerWaitsThenTimesOutNamingTheHolder() throws {
    let root = Fixture.scratch()
    let store = SnapshotStore(root: root)
    let held = try store.lock("props", timeout: 0)
    var waitedFor: [Int32?] = []
    #expect(throws: SnapshotError.lockTimeout(dataset: "props", holderPID: getpid(), seconds: 0.3)) {
      _ = try store.lock("props", timeout: 0.3, onWait: { waitedFor.append($0) })
    }
    #expect(waitedFor == [getpid()])
    #expect(
      SnapshotError.lockTimeout(dataset: "props", holderPID: 42, seconds: 600).description
        == "another build of props is still running (pid 42) after waiting 600 s; try again when it finishes")
    held.release()
    let next = try store.lock("props", timeout: 0)
    next.release()
  }

  /// The lock file keeps the pid of the last build that took it. Held by something else (an
  /// `flock` by hand), the wait named that long-dead build; now no pid is named.
  @Test func aDeadPidInTheLockFileIsNotNamed() throws {
    let root = Fixture.scratch()
    let store = SnapshotStore(root: root)
    try store.lock("props", timeout: 0).release()
    let path = "\(root)/props/.lock"
    let dead = "2147483646\n"  // above any pid_max: no such process
    try dead.write(toFile: path, atomically: false, encoding: .utf8)
    let fd = open(path, O_RDWR)
    defer { close(fd) }
    #expect(flock(fd, LOCK_EX) == 0)
    var waitedFor: [Int32?] = []
    #expect(throws: SnapshotError.lockTimeout(dataset: "props", holderPID: nil, seconds: 0.3)) {
      _ = try store.lock("props", timeout: 0.3, onWait: { waitedFor.append($0) })
    }
    #expect(waitedFor == [nil])
  }

  @Test func concurrentBuildsOfOneDatasetBothEndConsistent() async throws {
    let root = Fixture.scratch()
    let a = Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 300, seed: 11))])
    let b = Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 300, seed: 12))])
    async let ra = Task.detached { try Fixture.builder(root: root).build(a, lockTimeout: 30) }.value
    async let rb = Task.detached { try Fixture.builder(root: root).build(b, lockTimeout: 30) }.value
    let results = try await [ra, rb]
    let versions = results.compactMap { r -> String? in
      if case .published(let v, _) = r.outcome { return v }
      return nil
    }
    #expect(versions.sorted() == ["v1", "v2"])
    #expect(SnapshotStore(root: root).versions("props") == ["v1", "v2"])
    let report = Verifier(format: ArrowDataFileFormat()).verify(path: root)
    #expect(report.problems == [])
    #expect(report.checked == ["\(root)/props/v1", "\(root)/props/v2"])
  }

  /// A build encodes its manifest for the version it expects before it takes the lock to
  /// publish. When another build publishes first, the manifest must be made again for the
  /// version it really gets: v2, whose parent is the other build's v1.
  @Test func manifestNamesTheVersionPublishedWhenAnotherBuildWentFirst() throws {
    let root = Fixture.scratch()
    let other = Fixture.scratch("other")
    let first = try Fixture.builder(root: other).build(
      Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 50, seed: 21))]))
    #expect(first.outcome == .published(version: "v1", path: "\(other)/props/v1"))

    let store = SnapshotStore(root: root)
    let held = try store.lock("props", timeout: 0)
    let waiting = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<BuildResult, Error>?
    Thread {
      result = Result {
        try Fixture.builder(root: root).build(
          Fixture.inputs(seasons: [("2022-23", Fixture.table(rows: 50, seed: 22))]), lockTimeout: 30,
          onWait: { _ in waiting.signal() })
      }
      done.signal()
    }.start()
    // The build waits for the lock, its manifest already encoded for v1; "another build"
    // publishes v1 meanwhile.
    #expect(waiting.wait(timeout: .now() + 30) == .success)
    try FileManager.default.copyItem(atPath: "\(other)/props/v1", toPath: "\(root)/props/v1")
    held.release()
    #expect(done.wait(timeout: .now() + 30) == .success)
    let built = try #require(try result?.get())
    #expect(built.outcome == .published(version: "v2", path: "\(root)/props/v2"))
    let written = try store.manifest("props", "v2")
    #expect(written.version == "v2")
    #expect(written.parentVersion == "v1")
    #expect(written == built.manifest)
    #expect(Verifier(format: ArrowDataFileFormat()).verify(path: root).problems == [])
  }

  @Test func badDatasetNamesAreRefused() {
    #expect(
      throws: SnapshotError.badName(
        kind: "dataset", name: "../x",
        expected:
          "letters, digits, '_', '-' or '.', not starting with '.', and neither a version name like v1 nor manifest.json"
      )
    ) {
      try SnapshotStore.checkDatasetName("../x")
    }
    // Names `verify <root>` would read as a version or a manifest (it then checked nothing else).
    for name in ["v1", "v12", "manifest.json"] {
      #expect(throws: SnapshotError.self, "\(name)") { try SnapshotStore.checkDatasetName(name) }
    }
    for name in ["v0", "v01", "v1a", "manifest"] {
      #expect(throws: Never.self, "\(name)") { try SnapshotStore.checkDatasetName(name) }
    }
  }
}
