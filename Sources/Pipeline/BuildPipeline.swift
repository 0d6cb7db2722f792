import Columnar
import Features
import Foundation
import Gates
import SQLiteSource
import Snapshots
import Synchronization

/// What one build is asked to do: the resolved source options, the feature set already loaded,
/// and where and how to write.
public struct BuildRequest: Sendable {
  public var source: ResolvedSource
  public var featureSet: FeatureSetSpec
  /// The dataset's name, checked by `SnapshotStore.checkDatasetName` before it gets here.
  public var dataset: String
  /// The root folder of the snapshots (`Datasets` by default).
  public var out: String
  public var includeBootstrap = false
  public var batchRows = 8192
  public var pointInTimeSeed: UInt64 = 20_231_024
  /// Seconds to wait for another build of the same dataset.
  public var lockTimeout: Double = 600
  /// Hash the database file even when its digest is remembered.
  public var rehashSource = false
  /// Note a table read whole because no index chose a season's pages (`--quiet` turns this
  /// advice off; every other note stays, as each says what the snapshot holds or certifies).
  public var noteUnindexedScans = true

  public init(source: ResolvedSource, featureSet: FeatureSetSpec, dataset: String, out: String) {
    self.source = source
    self.featureSet = featureSet
    self.dataset = dataset
    self.out = out
  }

  /// Steps a build reports progress in: the read, each season (computed, checked and
  /// written), the publish.
  public var steps: Int { source.seasonYears.count + 2 }

  /// What is wrong with the settings a command line also gives (`--out`, `--batch-rows`,
  /// `--lock-timeout`), as the CLI words it; nil when nothing is. `BuildCommand.validate` and
  /// `BuildPipeline.run` both ask it: a library caller with `batchRows: 0` crashed its process,
  /// and `out` inside a published version wrote into that version (a library review).
  public static func settingsProblem(out: String, batchRows: Int, lockTimeout: Double) -> String? {
    optionProblem(out: out, batchRows: batchRows, lockTimeout: lockTimeout) ?? outFolderProblem(out: out)
  }

  /// The values alone: an empty `out`, a batch size or lock timeout out of range.
  public static func optionProblem(out: String, batchRows: Int, lockTimeout: Double) -> String? {
    // An unset $OUT in a scheduler's command line: "" would put the dataset at the file
    // system's root ("/props_v1").
    guard !out.isEmpty else { return "--out is empty: expected the folder of the snapshots (default Datasets)" }
    guard batchRows > 0, batchRows <= 1 << 24 else {
      return "--batch-rows \(batchRows) is out of range: expected 1…16777216"
    }
    guard lockTimeout >= 0, lockTimeout.isFinite else {
      return "--lock-timeout \(lockTimeout) must be a number of seconds ≥ 0"
    }
    return nil
  }

  /// `out` on disk: inside a published version, or a dataset folder rather than their root.
  public static func outFolderProblem(out: String) -> String? {
    if let version = SnapshotStore.publishedVersion(containing: out) {
      return "--out \(out) is inside the published version \(version), which is never modified (snapshot.md): "
        + "expected the folder that holds the datasets (default Datasets)"
    }
    // `--out Datasets/props_v1` would nest a second props_v1 inside the dataset folder, where
    // neither `list` nor `verify` looks.
    if let first = SnapshotStore(root: PathNames.folder(holding: out)).versions((out as NSString).lastPathComponent)
      .first
    {
      return
        "--out \(out) is a dataset folder (it holds \(first)): expected the folder that holds the datasets, such as its parent"
    }
    return nil
  }

  /// Everything the CLI checks before reading a row, for a request a library caller made by
  /// hand: the settings above, the dataset's name, and the resolved source
  /// (`ResolvedSource.check`). A usage failure (exit 1), before anything is read or written.
  public func check() throws(CommandFailure) {
    if let problem = Self.settingsProblem(out: out, batchRows: batchRows, lockTimeout: lockTimeout) {
      throw CommandFailure(.usage, "error: \(problem)")
    }
    do { try SnapshotStore.checkDatasetName(dataset) } catch {
      throw CommandFailure(.usage, "error: dataset name: \(error)")
    }
    try source.check()
  }
}

/// What a build tells its caller while it runs.
public struct BuildEvents {
  /// Steps done so far, of `BuildRequest.steps`; on the thread that called `run`.
  public var progress: (_ done: Int) -> Void = { _ in }
  /// Another build holds the dataset's lock (its pid when known); called each time it is
  /// waited for, from whichever thread waits (the writer's or the caller's).
  public var waitingForLock: @Sendable (_ pid: Int32?) -> Void = { _ in }
  /// The gate report of a refusal (a failed gate or point-in-time check, the point-in-time
  /// record last), just before the `.gateFailed` failure is thrown; on the thread that called
  /// `run`.
  public var refused: (GateReport) -> Void = { _ in }

  public init() {}
}

/// A finished build: what was published (or found unchanged), the gate report as this run
/// measured it, and every note the run made.
public struct BuildOutput: Sendable {
  public var result: BuildResult
  public var report: GateReport
  public var notes: [String]
}

/// `dataset build` as a library call: read → gates and fingerprint on the second core →
/// features per season → point-in-time check → Arrow files → manifest → publish. The CLI
/// parses options into a `BuildRequest` and prints what this returns or throws; nothing here
/// writes to stdout, and stderr only through `ResolvedSource.onNote`, the events and
/// `DATASET_TIMINGS`.
public enum BuildPipeline {
  /// Runs the build. Throws `CommandFailure`, with the exit status gates.md gives it and, for
  /// outcomes a scheduler waits out, a `reason`: a request that `check` refuses (usage), an
  /// unusable source, a failed gate (after `events.refused` got the report), no rows; or
  /// `SnapshotError` from the store. Nothing is published unless it returns.
  public static func run(_ request: BuildRequest, events: BuildEvents = BuildEvents(), timer: PhaseTimer = PhaseTimer())
    throws -> BuildOutput
  {
    try request.check()
    var timer = timer
    var resolved = request.source
    let spec = request.featureSet
    let name = request.dataset
    let out = request.out
    let featureSetRef = Manifest.FeatureSetRef(spec)
    // The dataset's latest manifest read beside the source read (a few ms of JSON), so a
    // feature set edited in place is said before any gate report or computation; publish
    // judges again under the lock, against a build that published meanwhile.
    let store = SnapshotStore(root: out)
    let earlyConflict = BackgroundWork { store.featureSetConflict(name, featureSetRef) }

    // The file's SHA-256 needs nothing the read produces. Started now, it runs on the core the
    // read leaves idle while one thread walks the tree, joins the decoded parts and queries the
    // schedule, instead of adding its time to the fingerprint's after the read. It is
    // remembered across builds while the file is provably unchanged (SourceDigestCache): for
    // one season out of a large export, hashing the file was most of the build.
    let databasePath = resolved.database
    let digestCache = SourceDigestCache(root: out), reuseDigest = !request.rehashSource
    // The hash's descriptor is closed only once the read has closed its connection: closing it
    // earlier would release the shared lock SQLite holds for the read (POSIX locks belong to
    // the process, and any close drops them all), letting a writer commit mid-read.
    let readDone = ReadDone()
    // The file's state before anything reads it, compared once the hash is done: the rows, the
    // digest and the manifest must all describe one committed state of the file.
    // A writer killed mid-transaction leaves a hot journal, which the read's connection rolls
    // back: the file would change under the hash started beside the read, and the build would
    // blame a writer that is long gone. Let that recovery happen first (the read reports any
    // failure of it).
    SourceReader(path: databasePath).rollBackInterruptedWrite()
    let watch = SourceFileWatch(path: databasePath)
    let stopHash = StopFlag()
    let fileDigest = BackgroundWork { () -> (Result<(sha256: String, reused: Bool), SnapshotError>, seconds: Double) in
      let t0 = PhaseTimer.now()
      let digest = Result { () throws(SnapshotError) in
        try digestCache.sha256(ofFileAt: databasePath, reuse: reuseDigest, holdOpenUntil: readDone.wait, stop: stopHash)
      }
      return (digest, PhaseTimer.now() - t0)
    }
    // A build that stops early (a refusal, an error) stops the hash at its next MiB and waits
    // for it: it may be writing <out>/.cache/source-sha256.json, and a process exiting under it
    // left Foundation's temporary files there (session 13, a sanitizer run's leak report).
    // Waiting for the whole hash made a refusal on a 2.5 GB export take 2.5 s instead of
    // 0.2 s. A build that gets this far has used the digest already.
    defer {
      stopHash.set()
      _ = fileDigest.wait()
    }
    let data: SourceData, readSummary: ReadSummary
    let read: Result<(SourceData, ReadSummary), SourceError>
    do {
      defer { readDone.signal() }
      let reader = SourceReader(path: resolved.database)
      read = Result { () throws(SourceError) in
        try resolved.readSeasons(from: reader) { seasons throws(SourceError) in
          try reader.readSummarizing(seasons: seasons)
        }
      }
    }
    switch read {
    case .success(let result): (data, readSummary) = result
    case .failure(let error):
      // An input that cannot be used is exit 3, with the reason a scheduler branches on: the
      // same CommandFailure every other refusal is, for a library caller too.
      throw CommandFailure(.unusableInput, "error: \(error)", reason: FailureReason(error))
    }
    if let conflict = earlyConflict.wait() {
      throw failure(conflict, dataset: name, spec: spec, sha256: featureSetRef.sha256)
    }
    try resolved.requireRowsInWindow(data)
    // snapshot.md asks for the file's SHA-256; in WAL mode the newest commits are in the -wal
    // file, which the rows include and the digest does not. Say so, with the one-line fix.
    // A note, so printed under --quiet too: it is about what the manifest certifies.
    if let pending = watch?.pendingWALBytes {
      resolved.note(
        "\(databasePath) is in WAL mode and \(databasePath)-wal holds \(pending) bytes not yet copied into the "
          + "main file: the rows read include the commits among them, the manifest's source.sha256 (the main file's) does not. "
          + "`sqlite3 \(databasePath) 'PRAGMA wal_checkpoint(TRUNCATE)'` before the build makes the two agree.")
    }
    // A large export without the selector indexes is read whole for every one-season build:
    // say so once per build, with the one-line fix (docs/IMPORT.md).
    for scan in readSummary.unindexedScans(pgsSelected: data.pgs.count, pcfSelected: data.pcf.count)
    where request.noteUnindexedScans {
      resolved.note(
        "\(scan.table) holds \(scan.rows) rows and this build needed \(scan.selected); it read them all, "
          + "as no usable index on \(scan.selector) chose its pages. If the database has none, "
          + "`CREATE INDEX \(scan.table)_\(scan.selector) ON \(scan.table)(\(scan.selector))` once makes "
          + "such builds read only the seasons asked for (docs/IMPORT.md).")
    }
    timer.mark("read source")
    timer.say(describe(readSummary, pgs: data.pgs.count, pcf: data.pcf.count))
    events.progress(1)
    // Gates and the source fingerprint need only the inputs: they run on the second core while
    // this one computes the features. Seasons are written into an invisible temporary folder
    // as they are computed and are thrown away when a gate fails; feature errors are reported
    // only after the gates passed, so what the user sees is unchanged.
    let builder = SnapshotBuilder(store: SnapshotStore(root: out), format: ArrowDataFileFormat())
    let writer = SnapshotWriter(
      builder: builder, dataset: name, featureSet: featureSetRef, batchRows: request.batchRows,
      lockTimeout: request.lockTimeout, onWait: events.waitingForLock)
    // A note, so printed under --quiet too: it says why a build of unchanged inputs made a new
    // version. Kept apart from `resolved.notes`, which the writer's thread must not touch.
    let publishNotes = Mutex<[String]>([])
    let onNote = resolved.onNote
    writer.onDamagedLatest = { latest, damage in
      let text =
        "the content equals \(name)/\(latest), but that version is damaged (\(damage)); publishing it again as a new version"
      publishNotes.withLock { $0.append(text) }
      onNote?(text)
    }
    var publishedOrUnchanged = false
    defer { if !publishedOrUnchanged { writer.discard() } }
    let gateInputs = resolved
    // Set the moment the gates have failed, before the fingerprint: the season loop stops
    // there rather than when the whole side work is done.
    let gatesFailed = StopFlag()
    let sideWork = BackgroundWork { () -> (GateReport, Result<Manifest.SourceFingerprint, SnapshotError>, [Double]) in
      let t0 = PhaseTimer.now(), c0 = PhaseTimer.threadCPU()
      let report = GateRunner.run(
        source: data, config: gateInputs.thresholds, window: gateInputs.window, startDate: gateInputs.startDate,
        endDate: gateInputs.endDate, overrides: gateInputs.overrides)
      // Files go to disk from the moment the gates passed, while seasons are still computed.
      if report.passed { writer.allowWrites() } else { gatesFailed.set() }
      let t1 = PhaseTimer.now(), c1 = PhaseTimer.threadCPU()
      let fingerprint = Result { () throws(SnapshotError) in
        guard report.passed else {
          // Nothing will be published: no fingerprint, but the hash is still waited for, so
          // that the file watch below judges a finished read and hash.
          _ = fileDigest.wait()
          throw SnapshotError.io(path: databasePath, operation: "fingerprint (not computed: a gate failed)", errno: 0)
        }
        return try SourceFingerprinter.fingerprint(data) { () throws(SnapshotError) in
          try fileDigest.wait().0.get().sha256
        }
      }
      return (report, fingerprint, [t1 - t0, PhaseTimer.now() - t1, c1 - c0, PhaseTimer.threadCPU() - c1])
    }

    var range: ClosedRange<Date32>?
    if resolved.startDate != nil || resolved.endDate != nil {
      let first = resolved.window.start ?? Date32(daysSinceEpoch: Int32.min)
      let last = resolved.window.end ?? Date32(daysSinceEpoch: Int32.max)
      range = first...last
    }
    let engine = FeatureEngine(spec: spec)
    var run = engine.start(
      source: data, options: FeatureOptions(includeBootstrap: request.includeBootstrap, dateRange: range))
    // An empty season would publish a file of no rows with every gate passing: refuse a season
    // given with --season that has none. Seasons the dates gave are skipped when empty (a
    // rolling window from July to November spans a season without games), unless all are.
    let empty = zip(run.seasons, run.rowCounts).filter { $0.1 == 0 }.map(\.0)
    if !empty.isEmpty {
      guard resolved.seasons.contains(where: \.isFromDates), empty.count < run.seasons.count else {
        // A failed gate comes first, as on every other path: "no feature rows" is an outcome a
        // scheduler may wait out (its reason says so), a failed gate over the same days is not
        // (a review: a usage_rate hole in a season's first week was reported as nothing to do).
        var (gateReport, _, _) = sideWork.wait()
        guard gateReport.passed else {
          gateReport.notes = resolved.notes
          events.refused(gateReport)
          throw CommandFailure(.gateFailed, "build: \(gateReport.verdict); nothing was written")
        }
        throw CommandFailure(
          .unusableInput,
          noFeatureRows(seasons: empty, data: data, resolved: resolved, includeBootstrap: request.includeBootstrap),
          reason: .noFeatureRows)
      }
      run = run.keeping(seasons: Set(run.seasons).subtracting(empty))
      // A note, so printed under --quiet too: it names a season the new version will not hold.
      resolved.note(
        "no feature rows\(resolved.windowText) in season \(Season.labels(empty)), which the dates span; not built")
    }
    let builtSeasons = Set(run.seasons)
    let pointInTime = BackgroundCheck(
      PointInTimeSession(
        spec: spec, run: run, sampleSize: resolved.thresholds.pointInTimeMinSampleRows, seed: request.pointInTimeSeed))
    timer.mark("index inputs, draw sample")

    var featureError: FeatureComputeError?
    var computeSeconds = 0.0, computeCPU = 0.0, submitSeconds = 0.0
    for k in run.seasons.indices {
      // A failed gate makes the rest of the work pointless: stop as soon as it is known.
      if gatesFailed.isSet { break }
      let t0 = PhaseTimer.now(), c0 = PhaseTimer.threadCPU()
      let season: SeasonFeatures
      do { season = try engine.compute(season: k, of: run) } catch {
        featureError = error
        break
      }
      let t1 = PhaseTimer.now()
      computeCPU += PhaseTimer.threadCPU() - c0
      // The check runs on its own thread while this one computes the next season: it only
      // decides whether the build may publish. Once it has failed nothing more is written
      // (what was stays in the invisible temporary folder and is removed with it), but every
      // season is still checked so the refusal lists all mismatches.
      pointInTime.check(season)
      if !pointInTime.hasFailed { writer.submit(label: Season.label(season.season), table: season.table) }
      computeSeconds += t1 - t0
      submitSeconds += PhaseTimer.now() - t1
      if writer.error != nil { break }
      events.progress(2 + k)
    }
    timer.mark("seasons: features, queue")
    timer.note("  features", seconds: computeSeconds, cpu: computeCPU)
    timer.note("  waiting for the writer", seconds: submitSeconds)
    let (pit, checkSeconds, checkCPU) = pointInTime.result()
    timer.mark("wait for point-in-time check")
    timer.note("  (checker) point-in-time check", seconds: checkSeconds, cpu: checkCPU)

    let (gateReport, fingerprint, sideSeconds) = sideWork.wait()
    // The fingerprint waited for the file's digest: the read and the hash are both done, and
    // no SQLite connection has the file open, so the watch's descriptor may close.
    if let change = watch?.change() {
      throw CommandFailure(
        .unusableInput,
        "error: \(databasePath) changed while the build read and hashed it (\(change)); nothing was written. "
          + "Run the build again once the writer is done.", reason: .sourceChanged)
    }
    watch?.close()
    timer.mark("wait for gates, fingerprint")
    timer.note("  (other core) gates", seconds: sideSeconds[0], cpu: sideSeconds[2])
    timer.note("  (other core) fingerprint", seconds: sideSeconds[1], cpu: sideSeconds[3])
    if let (result, seconds) = fileDigest.poll(), case .success(let digest) = result {
      timer.say(
        digest.reused
          ? "database SHA-256 remembered from an earlier build (file unchanged; --rehash-source recomputes it)"
          : "database SHA-256 computed in \(String(format: "%.1f", seconds * 1000)) ms, beside the read")
    }
    var report = gateReport
    report.notes = resolved.notes
    guard report.passed else {
      events.refused(report)
      throw CommandFailure(.gateFailed, "build: \(report.verdict); nothing was written")
    }
    if let featureError { throw CommandFailure(.unusableInput, "error: features: \(featureError)") }
    let usedOverrides = recordedOverrides(resolved.overrides, report: report)
    for o in resolved.overrides where !usedOverrides.contains(where: { $0.gate == o.gate }) {
      resolved.note("--override \(o.gate) was not needed (the gate did not fail); it is not recorded")
    }
    let pitRecord = Manifest.GateRecord(pointInTime: pit)
    guard pit.passed else {
      // The report as a gate failure prints it (with --json, the JSON a scheduler reads), the
      // point-in-time check last.
      var refused = report
      refused.gates.append(
        GateResult(
          name: pitRecord.name, status: .fail, figure: pitRecord.figure, value: pitRecord.value,
          threshold: pitRecord.threshold,
          summary: pitRecord.evidence.first ?? "", evidence: pitRecord.evidence))
      events.refused(refused)
      let lines = pit.mismatches.prefix(20).map { "  \($0)" }.joined(separator: "\n")
      throw CommandFailure(
        .gateFailed,
        "build: point_in_time failed: \(pit.mismatches.count) of \(pit.checkedRows) sampled rows differ when recomputed from inputs cut at their date; nothing was written\n\(lines)"
      )
    }

    let config = Manifest.BuildConfig(
      seasons: resolved.seasons.filter { builtSeasons.contains($0.startYear) }.map(\.label),
      dates: Manifest.DateOptions(
        startGiven: resolved.startDate?.given, endGiven: resolved.endDate?.given,
        startResolved: resolved.startDate?.date, endResolved: resolved.endDate?.date,
        timeZone: resolved.startDate?.timeZone ?? resolved.endDate?.timeZone ?? "America/New_York",
        resolvedAt: (resolved.startDate?.keyword ?? resolved.endDate?.keyword) != nil
          ? Timestamp.format(micros: resolved.resolvedAtMicros / 1_000_000 * 1_000_000) : nil),
      thresholds: Manifest.BuildConfig.thresholds(resolved.thresholds),
      overrides: usedOverrides.map { Manifest.OverrideRecord(gate: $0.gate, reason: $0.reason) },
      includeBootstrap: request.includeBootstrap, batchRows: request.batchRows,
      pointInTimeSeed: request.pointInTimeSeed)
    report.gates.append(
      GateResult(
        name: pitRecord.name, status: .pass, figure: pitRecord.figure, value: pitRecord.value,
        threshold: pitRecord.threshold, summary: "", evidence: []))

    let result: BuildResult
    do {
      result = try writer.finish(
        config: config, source: try fingerprint.get(),
        gates: gateReport.gates.map(Manifest.GateRecord.init) + [pitRecord], tool: Manifest.Tool.current)
      publishedOrUnchanged = true
    } catch let e as SnapshotError {
      var reason: FailureReason?
      if case .lockTimeout = e { reason = .lockTimeout }
      throw CommandFailure(.unusableInput, "error: \(e)", reason: reason)
    } catch let e as FeatureSetConflictError {
      // A build of another feature set published while this one computed.
      throw failure(e.conflict, dataset: name, spec: spec, sha256: featureSetRef.sha256)
    }
    timer.mark("finish writes, publish")
    let writerCPU = writer.cpuSeconds
    timer.note("  (writer threads) statistics", cpu: writerCPU.statistics)
    timer.note("  (writer threads) encode, write", cpu: writerCPU.files)
    timer.resources()
    events.progress(run.seasons.count + 2)
    return BuildOutput(result: result, report: report, notes: resolved.notes + publishNotes.withLock { $0 })
  }

  /// The overrides a manifest records: only one that let a failed gate through. The manifest
  /// then says "built with overrides" when something was overridden, and a standing override
  /// in a scheduler's command line neither marks every snapshot nor makes a new version on the
  /// days its gate passes.
  public static func recordedOverrides(_ overrides: [GateOverride], report: GateReport) -> [GateOverride] {
    overrides.filter { o in report.gates.contains { $0.name == o.gate && $0.overridden } }
  }

  /// What a feature-set conflict (`SnapshotStore.featureSetConflict`) tells the operator.
  public static func failure(
    _ conflict: SnapshotStore.FeatureSetConflict, dataset: String, spec: FeatureSetSpec, sha256: String
  ) -> CommandFailure {
    switch conflict {
    case .otherFeatureSet(let latest, let holds):
      return CommandFailure(
        .usage,
        "error: dataset \(dataset) holds feature set \(holds) (latest \(dataset)/\(latest)) and this build computes \(spec.name): "
          + "a reader of its latest version would get another schema under the same name. Give --dataset a new name; "
          + "nothing was published")
    case .editedInPlace(let version, let theirs):
      return CommandFailure(
        .unusableInput,
        "error: \(spec.path): feature set \(spec.name) version \(spec.version) is not the file \(dataset)/\(version) was built "
          + "with (sha256 \(sha256.prefix(12))…, then \(theirs.prefix(12))…). A changed definition needs a new "
          + "version (raise \"version\") or a new name, never an edit in place; nothing was published")
    }
  }

  /// Why a season has no row to build: its rows in range are bootstrap days or inactive. Of
  /// several `seasons`, the one with the most active rows in range is named (the one whose
  /// rows the bootstrap rule dropped, rather than one without games).
  static func noFeatureRows(seasons: [Int], data: SourceData, resolved: ResolvedSource, includeBootstrap: Bool)
    -> String
  {
    let (season, why) = whyNoFeatureRows(
      seasons: seasons, data: data, resolved: resolved, includeBootstrap: includeBootstrap)
    return
      "error: \(data.path): no feature rows to build for season \(Season.label(season))\(resolved.windowText): \(why); nothing was written"
  }

  /// The season `noFeatureRows` names, and why it has no row to build.
  public static func whyNoFeatureRows(
    seasons: [Int], data: SourceData, resolved: ResolvedSource, includeBootstrap: Bool
  ) -> (season: Int, why: String) {
    let window = resolved.window
    let pgs = data.pgs
    var rowsOf: [Int: Int] = [:], activeOf: [Int: Int] = [:]
    for i in 0..<pgs.count where pgs.seasonYear.validity[i] && window.contains(pgs.gameDate.values[i]) {
      let s = Int(pgs.seasonYear.values[i])
      rowsOf[s, default: 0] += 1
      if pgs.isActive(i) { activeOf[s, default: 0] += 1 }
    }
    let season = seasons.max { (activeOf[$0] ?? 0, $0) < (activeOf[$1] ?? 0, $1) } ?? seasons[0]
    let rows = rowsOf[season] ?? 0, active = activeOf[season] ?? 0
    let range = resolved.windowText
    var why =
      "none of its \(rows) player_game_summary row\(rows == 1 ? "" : "s")\(range.isEmpty ? "" : " there") is an active game"
    if active > 0, !includeBootstrap, let opening = SeasonCalendar.calendars(for: data)[season]?.openingNight {
      let last = opening.adding(days: SeasonCalendar.bootstrapDays - 1)
      why =
        "its \(active) active game row\(active == 1 ? "" : "s")\(range.isEmpty ? "" : " there") all fall on bootstrap days "
        + "(opening night \(opening) through \(last); --include-bootstrap keeps them)"
    }
    return (season, why)
  }

  /// Seasons with rows in the window but none a build would compute features for (every
  /// active row on a bootstrap day, or none active), for `validate`: its gates pass over such a
  /// window, and the build that follows it in a scheduler's chain then exits 3.
  public static func seasonsWithoutFeatureRows(data: SourceData, resolved: ResolvedSource) -> (
    seasons: [Int], anyBuilt: Bool
  ) {
    let window = resolved.window
    let pgs = data.pgs
    let calendars = SeasonCalendar.calendars(for: data)
    // validate has no --include-bootstrap: it predicts the default build. The window is checked
    // apart, as it also decides which seasons have rows at all.
    let options = FeatureOptions()
    var inWindow = Set<Int>(), withFeatureRows = Set<Int>()
    for i in 0..<pgs.count where pgs.seasonYear.validity[i] && window.contains(pgs.gameDate.values[i]) {
      let season = Int(pgs.seasonYear.values[i])
      inWindow.insert(season)
      if FeatureOptions.isHistoryRow(pgs, i), options.isOutputDate(pgs.gameDate.values[i], calendar: calendars[season])
      {
        withFeatureRows.insert(season)
      }
    }
    return (
      resolved.seasonYears.filter { inWindow.contains($0) && !withFeatureRows.contains($0) },
      resolved.seasonYears.contains { withFeatureRows.contains($0) }
    )
  }

  /// "read: PGS 26751 rows of 2021216 through the season_year index, PCF …" for DATASET_TIMINGS.
  static func describe(_ summary: ReadSummary, pgs: Int, pcf: Int) -> String {
    func one(_ name: String, _ selected: Int, _ rows: Int?, _ indexed: Bool, _ selector: String) -> String {
      let of = rows.map { " of \($0)" } ?? ""
      return "\(name) \(selected) rows\(of)\(indexed ? " through the \(selector) index" : "")"
    }
    return "read: "
      + one("PGS", pgs, summary.pgsRowsInFile, summary.pgsIndexed, "season_year") + ", "
      + one("PCF", pcf, summary.pcfRowsInFile, summary.pcfIndexed, "game_date")
  }
}

/// Work started on its own thread at once; `wait()` blocks until it is done and returns its
/// result. Used where two independent stages can share the machine's two cores.
final class BackgroundWork<T>: @unchecked Sendable {
  // Written once by the worker before `done` is signalled, read only after waiting on it.
  private var result: T?
  private let done = DispatchSemaphore(value: 0)

  init(_ work: @escaping @Sendable () -> T) {
    let thread = Thread { [self] in
      result = work()
      done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
  }

  func wait() -> T {
    done.wait()
    done.signal()
    return result!
  }

  /// The result if the work is done, without waiting.
  func poll() -> T? {
    guard done.wait(timeout: .now()) == .success else { return nil }
    done.signal()
    return result
  }
}

/// A one-way signal: `wait` returns once `signal` was called, as often as it is called after.
final class ReadDone: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  func signal() { done.signal() }
  @Sendable func wait() {
    done.wait()
    done.signal()
  }
}

/// A build's point-in-time session, fed season by season and run on its own serial queue.
final class BackgroundCheck: @unchecked Sendable {
  // `session` and `seconds` are touched only on `queue`; `failed` is guarded by `lock` so the
  // build loop can ask without waiting for checks still queued.
  private var session: PointInTimeSession
  private var seconds = 0.0, cpu = 0.0
  private let queue = DispatchQueue(label: "dataset.point-in-time")
  private let lock = NSLock()
  private var failed = false

  init(_ session: PointInTimeSession) { self.session = session }

  /// Queues the check of one season's output and returns at once.
  func check(_ season: SeasonFeatures) {
    queue.async { [self] in
      let t0 = PhaseTimer.now(), c0 = PhaseTimer.threadCPU()
      session.check(season)
      seconds += PhaseTimer.now() - t0
      cpu += PhaseTimer.threadCPU() - c0
      let found = session.mismatchCount > 0
      lock.lock()
      failed = failed || found
      lock.unlock()
    }
  }

  /// Whether a season checked so far had a mismatch.
  var hasFailed: Bool {
    lock.lock()
    defer { lock.unlock() }
    return failed
  }

  /// Waits for every queued check; the result and the CPU-side seconds they took.
  func result() -> (PointInTimeResult, Double, Double) { queue.sync { (session.result, seconds, cpu) } }
}
