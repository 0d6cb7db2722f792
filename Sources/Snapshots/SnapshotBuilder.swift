import Clocks
import Columnar
import Foundation
import SQLiteSource

#if canImport(Glibc)
  import Glibc
#endif

/// How data files are written and read back; the Arrow IPC + LZ4 implementation is
/// `ArrowDataFileFormat`. Kept as a protocol so publish/verify logic is testable alone.
public protocol DataFileFormat: Sendable {
  /// The file's bytes: deterministic for equal tables, metadata and batch sizes. `metadata`
  /// describes the file as a whole (`SnapshotBuilder.fileMetadata`).
  func encode(_ table: Table, batchRows: Int, metadata: [Metadatum]) throws -> [UInt8]
  /// The whole file as one table, every batch decoded (what `verify` checks and recomputes
  /// the statistics from), and the rows of each batch; throws with a readable message when
  /// the bytes are not a valid file.
  func decode(_ bytes: [UInt8]) throws -> (table: Table, batchRows: [Int])
}

/// Everything a build has computed before it is stored.
public struct SnapshotInputs: Sendable {
  public var dataset: String
  /// One table per season, ascending by season; every table has the same fields.
  public var seasons: [(label: String, table: Table)]
  public var featureSet: Manifest.FeatureSetRef
  public var config: Manifest.BuildConfig
  public var source: Manifest.SourceFingerprint
  public var gates: [Manifest.GateRecord]
  public var tool: Manifest.Tool

  public init(
    dataset: String, seasons: [(label: String, table: Table)], featureSet: Manifest.FeatureSetRef,
    config: Manifest.BuildConfig, source: Manifest.SourceFingerprint, gates: [Manifest.GateRecord],
    tool: Manifest.Tool
  ) {
    self.dataset = dataset
    self.seasons = seasons
    self.featureSet = featureSet
    self.config = config
    self.source = source
    self.gates = gates
    self.tool = tool
  }
}

public enum BuildInputError: Error, Equatable, CustomStringConvertible {
  case schemaMismatch(season: String, expected: [String], found: [String])
  case noSeasons
  case badSeasonLabel(String)

  public var description: String {
    switch self {
    case .schemaMismatch(let season, let expected, let found):
      return
        "season \(season) has columns \(found.joined(separator: ", ")) but the first season has \(expected.joined(separator: ", "))"
    case .noSeasons:
      return "nothing to build: no seasons were given"
    case .badSeasonLabel(let label):
      return
        "season label \"\(label)\" cannot be a file name: expected YYYY-YY, the second part the year after the first (2022-23)"
    }
  }
}

/// What a build did: the version it published or the latest version that already has this
/// content, and that version's manifest.
public struct BuildResult: Sendable {
  public var outcome: SnapshotStore.PublishOutcome
  public var manifest: Manifest
}

/// Encodes the data files, writes the manifest and publishes them through `SnapshotStore`.
public struct SnapshotBuilder: Sendable {
  public var store: SnapshotStore
  public var format: DataFileFormat
  /// Injectable so tests control `created_at`.
  public var now: @Sendable () -> Date

  public init(store: SnapshotStore, format: DataFileFormat, now: @escaping @Sendable () -> Date = { Date() }) {
    self.store = store
    self.format = format
    self.now = now
  }

  /// Encodes, hashes and stages each season's file, then publishes them with the manifest.
  /// The lock is held only to create the temporary folder and to publish, never while
  /// encoding, so a waiting build waits only for the writes.
  public func build(
    _ inputs: SnapshotInputs, lockTimeout: Double = 600, onWait: @escaping @Sendable (Int32?) -> Void = { _ in },
    beforeRename: () -> Void = {}
  ) throws -> BuildResult {
    try SnapshotStore.checkDatasetName(inputs.dataset)
    guard !inputs.seasons.isEmpty else { throw BuildInputError.noSeasons }
    let writer = SnapshotWriter(
      builder: self, dataset: inputs.dataset, featureSet: inputs.featureSet, batchRows: inputs.config.batchRows,
      lockTimeout: lockTimeout, onWait: onWait)
    for (label, table) in inputs.seasons { writer.submit(label: label, table: table) }
    return try writer.finish(
      config: inputs.config, source: inputs.source, gates: inputs.gates, tool: inputs.tool, beforeRename: beforeRename)
  }

  /// One season's file: its bytes and manifest entry. `SnapshotWriter.submit` has already
  /// checked the label and the columns.
  func encodeSeason(label: String, table: Table, batchRows: Int, featureSet: Manifest.FeatureSetRef) throws -> (
    entry: Manifest.FileEntry, bytes: [UInt8]
  ) {
    let bytes = try format.encode(table, batchRows: batchRows, metadata: Self.fileMetadata(featureSet: featureSet))
    let entry = Manifest.FileEntry(
      path: "\(label).arrow", bytes: bytes.count, sha256: Digest.hex(bytes), rows: table.rowCount, season: label)
    return (entry, bytes)
  }

  /// What a data file says of itself, so that a training job holding only the file (copied
  /// out of its version folder) can tell which feature set made it; each column also carries
  /// its `kind` (key, window, schedule, composite, label). The same for every file of a
  /// version: readers that concatenate files (pyarrow.dataset, concat_tables) keep the first
  /// file's metadata, so a per-file value (the season, which season_year holds anyway) would be
  /// wrong for every other file's rows. Deterministic: no dataset name, version or time, which
  /// would make equal content differ between versions.
  public static func fileMetadata(featureSet: Manifest.FeatureSetRef) -> [Metadatum] {
    [
      Metadatum("feature_set", featureSet.name), Metadatum("feature_set_version", featureSet.version),
      Metadatum("feature_set_sha256", featureSet.sha256),
    ]
  }

  /// The nothing-changed rule: same data files and schema (content_sha256), same feature-set
  /// spec, same config apart from when date keywords were resolved and from overrides that
  /// overrode nothing (builds before session 15 recorded an override of a gate that passed;
  /// today's leave it out, and a standing one must not make a version of unchanged content).
  ///
  /// The date window counts only through what it selects: its spelling (`today`, `TODAY`,
  /// `2026-11-28`) never, and its ends not when the files and every gate record are the same
  /// (a review: a daily `--end-date yesterday` job over a finished season published a
  /// byte-identical version every day, a false "new data" signal downstream).
  public static func sameContent(_ a: Manifest, _ b: Manifest) -> Bool {
    var ca = a.config, cb = b.config
    ca.thresholds = ca.thresholdsInForce
    cb.thresholds = cb.thresholdsInForce
    for c in [\Manifest.BuildConfig.dates.resolvedAt, \.dates.startGiven, \.dates.endGiven] {
      ca[keyPath: c] = nil
      cb[keyPath: c] = nil
    }
    if a.contentSHA256 == b.contentSHA256 && a.gates == b.gates { ca.dates = cb.dates }
    ca.overrides = a.overridesThatOverrode
    cb.overrides = b.overridesThatOverrode
    return a.contentSHA256 == b.contentSHA256 && a.featureSet == b.featureSet && ca == cb
  }

  /// What the latest version's manifest claims about its files that the same content, built
  /// again, does not give, or nil: each file's rows, season and bytes, each column's meaning
  /// and the statistics (within verify's rounding allowance, so a manifest of an older build,
  /// whose sums were added in another order, is not taken for damaged). The content hash covers
  /// only the files' digests and the schema; `Verifier.manifestProblems`, asked first, covers
  /// the manifest's own consistency (its version, totals, gates). Together they keep "nothing
  /// changed" from pointing at a manifest that `verify` fails.
  static func manifestClaimsDiffer(_ latest: Manifest, from built: Manifest) -> String? {
    for (a, b) in zip(latest.files, built.files) where a.rows != b.rows || a.season != b.season || a.bytes != b.bytes {
      return
        "its manifest says \(a.path) holds \(a.rows) rows of \(a.season) in \(a.bytes) bytes, the file holds \(b.rows) of \(b.season) in \(b.bytes)"
    }
    // Same content means byte-identical files, whose Arrow fields carry the meanings this
    // build wrote: a manifest that words a column otherwise disagrees with its own files.
    for (a, b) in zip(latest.schema, built.schema) where a.meaning != b.meaning {
      return "its manifest says column \(a.name) means \"\(a.meaning)\", its files say \"\(b.meaning)\""
    }
    for name in built.stats.keys.sorted() {
      guard let stated = latest.stats[name], let actual = built.stats[name], Verifier.statsAgree(stated, actual) else {
        return "its manifest's stats of column \(name) differ from its files"
      }
    }
    return nil
  }

  /// `YYYY-MM-DDTHH:MM:SSZ`, whole seconds (rounded down): `Timestamp.format` of the whole
  /// second, which writes no fraction for it. Not `ISO8601DateFormatter`: its first use loads
  /// ICU's calendar and locale data, a few milliseconds at the end of every build.
  public static func utcString(_ date: Date) -> String {
    Timestamp.format(micros: Int64(date.timeIntervalSince1970.rounded(.down)) * 1_000_000)
  }
}

extension SnapshotStore {
  /// Under a dataset folder: the highest version number ever published into it, so that a
  /// version deleted or renamed by hand (`mv v7 v7.bad`) does not give its name to other data.
  static let lastVersionFile = ".last-version"

  /// The highest version number taken in `dataset` (every entry named like a version: a
  /// folder, or a file or link in the way of one; and the record of the last one published),
  /// and the entry that holds it.
  func highestVersionNumber(_ dataset: String) -> (number: Int, heldBy: String) {
    let folder = datasetPath(dataset)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    var highest =
      names.compactMap { n in SnapshotStore.versionNumber(n).map { ($0, n) } }.max { $0.0 < $1.0 } ?? (0, "")
    if let recorded = recordedLastVersion(dataset), recorded > highest.0 {
      highest = (recorded, SnapshotStore.lastVersionFile)
    }
    return highest
  }

  /// The number in `.last-version`; nil unless it is a small regular file holding a version
  /// name (a link, a FIFO or anything large is not a record this tool wrote).
  func recordedLastVersion(_ dataset: String) -> Int? {
    let path = "\(datasetPath(dataset))/\(SnapshotStore.lastVersionFile)"
    var st = stat()
    guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= 64 else { return nil }
    let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0, let text = String(bytes: buffer[0..<n], encoding: .utf8) else { return nil }
    return SnapshotStore.versionNumber(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// The name the next version of `dataset` is published under: one past every number taken.
  func nextVersion(_ dataset: String) throws(SnapshotError) -> String {
    let highest = highestVersionNumber(dataset)
    guard highest.number < Int.max else {
      let record = highest.heldBy == SnapshotStore.lastVersionFile
      throw .noNextVersion(
        path: "\(datasetPath(dataset))/\(highest.heldBy)",
        reason: (record ? "records v\(highest.number) as the last version published: " : "")
          + "no version number follows v\(highest.number) (the largest there is); build into another --dataset, "
          + "or remove that \(record ? "file" : "entry") if it was made by hand and no version was ever published under a number that large"
      )
    }
    return "v\(highest.number + 1)"
  }

  /// Records `version` as the last one published into `dataset` (under the dataset lock, after
  /// the rename). Best effort: the version folders stay the record of what exists; this file
  /// only keeps a removed version's number from being used again. Written in place with one
  /// pwrite (no temporary file for a kill to leave behind): a record cut short reads as a
  /// smaller number or none, and the folder just renamed holds the number anyway. Never through
  /// a link, into a FIFO or into a file shared by a hard link (a `cp -al` backup): such an
  /// entry is replaced by a new file.
  func recordPublished(_ dataset: String, _ version: String) {
    let path = "\(datasetPath(dataset))/\(SnapshotStore.lastVersionFile)"
    let bytes = Array("\(version)\n".utf8)
    var fd = Glibc.open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    var st = stat()
    if fd >= 0, fstat(fd, &st) != 0 || st.st_mode & S_IFMT != S_IFREG || st.st_nlink != 1 {
      Glibc.close(fd)
      fd = -1
    }
    if fd < 0 {
      unlink(path)  // a link, a FIFO, a shared file, or nothing (ENOENT, harmless)
      fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    }
    guard fd >= 0 else { return }
    defer { Glibc.close(fd) }
    let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    if written == bytes.count { _ = ftruncate(fd, off_t(bytes.count)) }
  }
}

/// One build's files, written while the features of later seasons are still being computed.
/// `submit` queues a season's table; writer threads, one per core, encode, LZ4-compress, hash
/// and gather statistics of queued seasons side by side and write them into the temporary
/// folder. The statistics are merged in season order at `finish`, so they are reproducible.
/// `finish` publishes; `discard` drops everything. In memory at once: the season being
/// computed, one queued, and up to two being encoded.
///
/// Nothing touches the disk until `allowWrites()` (the build calls it once its gates passed)
/// or until the held-back files pass `holdBackBytes`: a build refused by a gate then leaves no
/// trace at all as long as its files fit in that budget, and a large build still never holds
/// more than the budget.
///
/// Errors (a full disk, a bad label, a table whose columns differ from the first's) are kept,
/// later seasons are skipped, and `finish` throws the first one.
public final class SnapshotWriter: @unchecked Sendable {
  // `mutex` guards the queue, the flags, `failure` and `entries`; `io` guards `pending`,
  // `pendingBytes` and `staging` (taken before `mutex` when both are needed, never after).
  // `fields` belongs to the submitting thread; `stats` is guarded by `mutex` like `entries`.
  private let builder: SnapshotBuilder
  private let dataset: String
  /// Named in every file's metadata and in the manifest.
  private let featureSet: Manifest.FeatureSetRef
  private let batchRows: Int
  private let lockTimeout: Double
  private let onWait: @Sendable (Int32?) -> Void
  /// Told when the content equals the latest version's but that version's files are damaged,
  /// so a new version is published instead of "nothing changed".
  public var onDamagedLatest: @Sendable (_ latest: String, _ damage: String) -> Void = { _, _ in }
  private let mutex = NSCondition()
  private let io = NSLock()
  /// Jobs: each season is queued twice, once to encode and write it, once for its statistics,
  /// so two writer threads share even a one-season build.
  private var queue: [(seq: Int, label: String, table: Table, statistics: Bool)] = []
  private var submitted = 0
  private var closed = false
  private var cancelled = false
  private var failure: Error?
  private var liveWorkers = 0
  private var writesAllowed = false
  /// Some encoded files wait in `pending` for `allowWrites` (mirrors `pending` under `mutex`,
  /// so an idle writer thread wakes to write them as soon as writes are allowed).
  private var heldBack = false
  private let capacity = 2
  public static let holdBackBytes = 32 << 20
  private var pending: [(name: String, bytes: [UInt8])] = []
  private var pendingBytes = 0

  private var staging: StagingFolder?
  private var fields: [Field]?
  private var entries: [Int: Manifest.FileEntry] = [:]
  /// Each season's statistics, computed by the writer thread that encoded it and merged in
  /// season order at `finish`, so the figures do not depend on which thread finished first.
  private var stats: [Int: ColumnStats.TableAccumulator] = [:]
  /// CPU time the writer threads spent on statistics and on encoding and writing files
  /// (guarded by `mutex`); the share of LZ4 compression that runs on helper threads is not in it.
  private var cpu = (statistics: 0.0, files: 0.0)

  public init(
    builder: SnapshotBuilder, dataset: String, featureSet: Manifest.FeatureSetRef, batchRows: Int,
    lockTimeout: Double = 600,
    onWait: @escaping @Sendable (Int32?) -> Void = { _ in },
    writerThreads: Int = Swift.max(1, Swift.min(4, ProcessInfo.processInfo.activeProcessorCount))
  ) {
    self.builder = builder
    self.dataset = dataset
    self.featureSet = featureSet
    self.batchRows = batchRows
    self.lockTimeout = lockTimeout
    self.onWait = onWait
    liveWorkers = writerThreads
    for _ in 0..<writerThreads {
      let thread = Thread { [self] in self.work() }
      thread.stackSize = 8 << 20
      thread.start()
    }
  }

  /// Queues one season (seasons must come in manifest order); blocks while the queue is full.
  public func submit(label: String, table: Table) {
    mutex.lock()
    precondition(!closed, "submit after finish or discard")
    guard failure == nil, !cancelled else {
      mutex.unlock()
      return
    }
    mutex.unlock()
    var problem: Error?
    if Season.startYear(ofLabel: label) == nil {
      problem = BuildInputError.badSeasonLabel(label)
    } else if let fields,
      table.fields.map(\.name) != fields.map(\.name) || table.fields.map(\.type) != fields.map(\.type)
    {
      problem = BuildInputError.schemaMismatch(
        season: label, expected: fields.map(\.name), found: table.fields.map(\.name))
    } else {
      if fields == nil { fields = table.fields }
    }
    mutex.lock()
    defer { mutex.unlock() }
    if let problem {
      if failure == nil { failure = problem }
      queue.removeAll()
      mutex.broadcast()
      return
    }
    while queue.count >= capacity && failure == nil && !cancelled { mutex.wait() }
    guard failure == nil, !cancelled else { return }
    queue.append((submitted, label, table, false))
    queue.append((submitted, label, table, true))
    submitted += 1
    mutex.broadcast()
  }

  /// The first error met so far, if any (later seasons are skipped after it).
  public var error: Error? {
    mutex.lock()
    defer { mutex.unlock() }
    return failure
  }

  private func work() {
    while true {
      mutex.lock()
      while queue.isEmpty && !closed && !cancelled && !(writesAllowed && heldBack) { mutex.wait() }
      if cancelled {
        liveWorkers -= 1
        mutex.broadcast()
        mutex.unlock()
        return
      }
      if queue.isEmpty && writesAllowed && heldBack {
        // The gates passed while files were held back and no season is waiting: write them now
        // rather than at `finish`.
        heldBack = false
        mutex.unlock()
        var problem: Error?
        io.lock()
        do { try flush() } catch { problem = error }
        io.unlock()
        mutex.lock()
        if let problem, failure == nil { failure = problem }
        if failure != nil { queue.removeAll() }
        mutex.broadcast()
        mutex.unlock()
        continue
      }
      if queue.isEmpty && closed {
        liveWorkers -= 1
        mutex.broadcast()
        mutex.unlock()
        return
      }
      let next = queue.removeFirst()
      mutex.broadcast()
      mutex.unlock()

      let started = Clocks.threadCPUSeconds()
      if next.statistics {
        let seasonStats = ColumnStats.TableAccumulator(table: next.table)
        mutex.lock()
        stats[next.seq] = seasonStats
        cpu.statistics += Clocks.threadCPUSeconds() - started
        mutex.broadcast()
        mutex.unlock()
        continue
      }
      var problem: Error?
      do {
        let (e, bytes) = try builder.encodeSeason(
          label: next.label, table: next.table, batchRows: batchRows, featureSet: featureSet)
        // Known before the file is on disk: `finish` builds the manifest from it meanwhile.
        mutex.lock()
        entries[next.seq] = e
        mutex.broadcast()
        mutex.unlock()
        io.lock()
        defer { io.unlock() }
        pending.append((e.path, bytes))
        pendingBytes += bytes.count
        mutex.lock()
        let allowed = writesAllowed
        mutex.unlock()
        if allowed || staging != nil || pendingBytes > Self.holdBackBytes { try flush() }
        mutex.lock()
        heldBack = !pending.isEmpty
        mutex.unlock()
      } catch {
        problem = error
      }

      mutex.lock()
      cpu.files += Clocks.threadCPUSeconds() - started
      if let problem, failure == nil { failure = problem }
      if failure != nil { queue.removeAll() }
      mutex.broadcast()
      mutex.unlock()
    }
  }

  /// CPU seconds the writer threads have spent so far on statistics and on encoding and
  /// writing files, for `DATASET_TIMINGS`.
  public var cpuSeconds: (statistics: Double, files: Double) {
    mutex.lock()
    defer { mutex.unlock() }
    return cpu
  }

  /// Writes the held-back files into the temporary folder, creating it first if needed.
  /// Called with `io` held, or after every writer thread has stopped.
  private func flush() throws {
    if staging == nil { staging = try builder.store.stage(dataset, lockTimeout: lockTimeout, onWait: onWait) }
    for f in pending { try staging!.write(name: f.name, bytes: f.bytes) }
    pending = []
    pendingBytes = 0
  }

  /// Files may go to disk from now on (the build's gates passed); files held back so far are
  /// written by a writer thread, not by the caller. Callable from any thread.
  public func allowWrites() {
    mutex.lock()
    writesAllowed = true
    mutex.broadcast()
    mutex.unlock()
  }

  /// Stops taking seasons and waits for the writer threads. `cancel` skips what is queued.
  private func join(cancel: Bool) {
    mutex.lock()
    closed = true
    if cancel { cancelled = true }
    mutex.broadcast()
    while liveWorkers > 0 { mutex.wait() }
    mutex.unlock()
  }

  /// Removes the temporary folder and everything in it; nothing becomes visible.
  public func discard() {
    join(cancel: true)
    staging?.discard()
    staging = nil
    pending = []
  }

  /// Waits for every queued season, then publishes them with their manifest (or finds the
  /// content equal to the latest version's and publishes nothing).
  ///
  /// The manifest is built and encoded as soon as every season is encoded and its statistics
  /// gathered, for the version that will most likely be next, while the writer threads are
  /// still putting the last files on disk (JSON encoding about 5 ms, the last file's direct
  /// writes and fsync 10–15 ms for one season): it is encoded again under the lock only if
  /// another build published in between.
  public func finish(
    config: Manifest.BuildConfig, source: Manifest.SourceFingerprint,
    gates: [Manifest.GateRecord], tool: Manifest.Tool, beforeRename: () -> Void = {}
  ) throws -> BuildResult {
    mutex.lock()
    closed = true
    mutex.broadcast()
    while (entries.count < submitted || stats.count < submitted) && failure == nil && !cancelled && liveWorkers > 0 {
      mutex.wait()
    }
    let encoded = failure == nil && entries.count == submitted && stats.count == submitted
    let seasonEntries = encoded ? (0..<submitted).map { self.entries[$0]! } : []
    let seasonStats = encoded ? (0..<submitted).map { self.stats[$0]! } : []
    mutex.unlock()
    guard let fields, encoded else {
      join(cancel: false)
      discard()
      throw failure ?? BuildInputError.noSeasons
    }

    var accumulated = ColumnStats.TableAccumulator(fields: fields)
    for s in seasonStats { accumulated.merge(s) }
    let schema = fields.map(Manifest.SchemaColumn.init)
    let content = Digest.content(files: seasonEntries, schema: schema)
    let rowCount = seasonEntries.reduce(0) { $0 + $1.rows }
    let createdAt = SnapshotBuilder.utcString(builder.now())
    let withOverrides = Manifest.isBuiltWithOverrides(config: config, gates: gates)
    let stats = accumulated.finish()

    func manifest(version: String, parent: String?) -> Manifest {
      Manifest(
        dataset: dataset, version: version, parentVersion: parent, createdAt: createdAt, tool: tool,
        featureSet: featureSet, config: config, source: source, gates: gates,
        files: seasonEntries, schema: schema, stats: stats, rowCount: rowCount, contentSHA256: content,
        builtWithOverrides: withOverrides)
    }
    let candidate = manifest(version: "", parent: nil)
    let published = builder.store.versions(dataset)
    let likelyNext = (try? builder.store.nextVersion(dataset)) ?? ""
    let likelyParent = builder.store.parentOfNext(dataset, among: published)
    let likelyBytes = try? manifest(version: likelyNext, parent: likelyParent).encoded()
    var writtenParent: String?

    join(cancel: false)
    if let failure {
      discard()
      throw failure
    }
    do { try flush() } catch {
      discard()
      throw error
    }
    guard let staging else { throw BuildInputError.noSeasons }
    var latestManifest: Manifest?
    self.staging = nil
    let outcome = try builder.store.publish(
      staging, lockTimeout: lockTimeout, onWait: onWait,
      admit: { version, latest in
        if let conflict = builder.store.featureSetConflict(dataset, featureSet, latest: (version, latest)) {
          throw FeatureSetConflictError(conflict: conflict)
        }
      },
      isUnchanged: { latest in
        latestManifest = latest
        return SnapshotBuilder.sameContent(latest, candidate)
      },
      manifestBytes: { version, parent in
        writtenParent = parent
        if version == likelyNext, parent == likelyParent, let likelyBytes { return likelyBytes }
        return try manifest(version: version, parent: parent).encoded()
      },
      beforeRename: beforeRename,
      manifestDamage: { name, latest in
        // What verify says of the manifest alone, then what it claims of its files.
        if let (file, text) = Verifier(format: builder.format).manifestProblems(
          folder: builder.store.versionPath(dataset, name)
        ).problems.first {
          return "\(file): \(text)"
        }
        return SnapshotBuilder.manifestClaimsDiffer(latest, from: candidate)
      },
      onDamagedLatest: onDamagedLatest)
    switch outcome {
    case .published(let version, _):
      return BuildResult(
        outcome: outcome, manifest: manifest(version: version, parent: writtenParent))
    case .unchanged:
      return BuildResult(outcome: outcome, manifest: latestManifest ?? candidate)
    }
  }
}

/// A build refused at publish because the dataset's versions hold another feature set, or the
/// same name and version with other bytes (`SnapshotStore.featureSetConflict`).
public struct FeatureSetConflictError: Error, Equatable {
  public var conflict: SnapshotStore.FeatureSetConflict
}
