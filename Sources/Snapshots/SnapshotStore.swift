import Clocks
import Columnar
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The on-disk store: `<root>/<dataset>/<version>/` with versions `v1`, `v2`, …
///
/// Publish protocol (docs/SNAPSHOTS.md "Publishing"): take the dataset's lock, remove temporary
/// folders left by dead builds, write every file into `<root>/<dataset>/.tmp-<pid>-<random>/`,
/// fsync each file and the folder, `rename(2)` the folder to the next version name, fsync the
/// dataset folder, release the lock. Readers list only `v<N>` names, so a temporary folder is
/// never seen as a version, and the rename makes a version appear whole or not at all.
public struct SnapshotStore: Sendable {
  public let root: String

  public init(root: String) { self.root = root }

  /// Version names are `v` followed by a positive decimal without leading zeros.
  public static func versionNumber(_ name: String) -> Int? {
    guard name.hasPrefix("v"), name.count > 1 else { return nil }
    let digits = name.dropFirst()
    guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0", let n = Int(digits) else { return nil }
    return n
  }

  /// Dataset names become folder names: letters, digits, `_`, `-`, `.`, not starting with `.`,
  /// and not a name `verify` reads as something else: a version (`v1`) or `manifest.json`
  /// would make `verify <root>` take the root for a dataset or a version and check nothing else.
  public static func checkDatasetName(_ name: String) throws(SnapshotError) {
    let ok =
      !name.isEmpty && name.count <= 100 && !name.hasPrefix(".")
      && name.unicodeScalars.allSatisfy {
        $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0))
      }
      && versionNumber(name) == nil && name != "manifest.json"
    guard ok else {
      throw .badName(
        kind: "dataset", name: name,
        expected:
          "letters, digits, '_', '-' or '.', not starting with '.', and neither a version name like v1 nor manifest.json"
      )
    }
  }

  /// The published version folder that `path` is or lies inside (a folder named `v<N>` that
  /// holds a manifest.json), nil when there is none: a build must not write into one.
  public static func publishedVersion(containing path: String) -> String? {
    // Symbolic links resolved (`--out link` where link → Datasets/x/v1): the deepest part of
    // the path that exists goes through realpath(3), the rest is appended as given.
    var existing = URL(fileURLWithPath: path).standardized.path
    var rest: [String] = []
    while !existing.isEmpty, existing != "/", !FileManager.default.fileExists(atPath: existing) {
      rest.insert((existing as NSString).lastPathComponent, at: 0)
      existing = PathNames.parent(of: existing)
    }
    var folder = existing
    if let real = realpath(existing, nil) {
      folder = String(cString: real)
      free(real)
    }
    for part in rest { folder += folder.hasSuffix("/") ? part : "/" + part }
    while !folder.isEmpty {
      let name = folder.split(separator: "/").last.map(String.init) ?? ""
      if versionNumber(name) != nil, FileManager.default.fileExists(atPath: folder + "/manifest.json") { return folder }
      let parent = PathNames.parent(of: folder)
      if parent == folder { break }
      folder = parent
    }
    return nil
  }

  public func datasetPath(_ dataset: String) -> String { "\(root)/\(dataset)" }
  public func versionPath(_ dataset: String, _ version: String) -> String { "\(root)/\(dataset)/\(version)" }

  /// Datasets under the root, sorted by name (folders that hold at least one version).
  public func datasets() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return names.filter { !$0.hasPrefix(".") && !versions($0).isEmpty }.sorted()
  }

  /// Why `path` cannot be used although it may well exist, nil when it can be (or simply does
  /// not exist): "cannot be reached (permission denied on a folder above it)" when a folder on
  /// the way may not be searched, "cannot be read (permission denied)" for a folder that may
  /// not be listed. A folder this user may not enter must not be reported as missing.
  public static func whyUnusable(_ path: String) -> String? {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      return errno == EACCES ? "cannot be reached (permission denied on a folder above it)" : nil
    }
    guard st.st_mode & S_IFMT == S_IFDIR else { return nil }
    guard let dir = opendir(path) else { return "cannot be read (\(String(cString: strerror(errno)).lowercased()))" }
    closedir(dir)
    return nil
  }

  /// Folders `datasets()` could not look into, and why (`whyUnusable`): the root itself, or a
  /// dataset folder this user may not list, whose versions would otherwise vanish from `list`
  /// and `verify` without a word.
  public func unreadableFolders() -> [(path: String, why: String)] {
    if let why = Self.whyUnusable(root) { return [(root, why)] }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name in
      let path = datasetPath(name)
      guard isDirectory(path), let why = Self.whyUnusable(path) else { return nil }
      return (path, why)
    }
  }

  /// Published version names of `dataset`, in numeric order (v10 after v9).
  public func versions(_ dataset: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: datasetPath(dataset))) ?? []
    return names.compactMap { n in SnapshotStore.versionNumber(n).map { (n, $0) } }
      .filter { isDirectory("\(datasetPath(dataset))/\($0.0)") }
      .sorted { $0.1 < $1.1 }
      .map(\.0)
  }

  public func latestVersion(_ dataset: String) -> String? { versions(dataset).last }

  /// The newest version of `dataset` that holds a manifest: the one `show`, `diff` and
  /// `verify` mean by the dataset's name, as it is the one the next build continues from.
  public func latestPublished(_ dataset: String) -> String? { parentOfNext(dataset, among: versions(dataset)) }

  /// The `parent_version` of the next version: the newest of `versions` that holds a
  /// `manifest.json`. A version folder without one was never published by a build (publish
  /// renames a complete folder): a `mkdir v7` by hand takes a number, not a place in the line.
  func parentOfNext(_ dataset: String, among versions: [String]) -> String? {
    versions.last { FileManager.default.fileExists(atPath: "\(versionPath(dataset, $0))/manifest.json") }
  }

  /// Reads a published manifest (not verified: `Verifier` does that).
  public func manifest(_ dataset: String, _ version: String) throws(SnapshotError) -> Manifest {
    try Manifest.read(path: "\(versionPath(dataset, version))/manifest.json")
  }

  /// Why a build computing `featureSet` may not publish into `dataset`, whose latest version
  /// is `latest` (its manifest already read, under the dataset lock); nil when it may.
  /// features-props-v1.md: "changing a definition means a new feature-set version, never an
  /// edit in place"; a dataset's versions are one feature set's history.
  /// - `.otherFeatureSet`: the latest version holds another feature set (a reader of "latest"
  ///   would get a different schema under the same name);
  /// - `.editedInPlace`: a version built with the same name and version had other file bytes.
  /// Older manifests are read only when the latest's feature-set version differs from this
  /// build's, so a daily build reads none beyond the latest.
  public enum FeatureSetConflict: Equatable, Sendable {
    case otherFeatureSet(latest: String, holds: String)
    case editedInPlace(version: String, sha256: String)
  }

  /// Against the latest version as published now (nil without one): the look a build takes
  /// before computing, so that a conflict is said at once, ahead of any gate report; publish
  /// judges again under the lock.
  public func featureSetConflict(_ dataset: String, _ featureSet: Manifest.FeatureSetRef) -> FeatureSetConflict? {
    guard let latest = newestReadableManifest(dataset, among: versions(dataset)) else { return nil }
    return featureSetConflict(dataset, featureSet, latest: latest)
  }

  /// The newest of `versions` whose manifest reads. A damaged latest manifest is replaced by
  /// the next build; until then the feature-set rules are judged against the newest version
  /// that still says what it holds, or an edit in place would slip through behind it.
  func newestReadableManifest(_ dataset: String, among versions: [String]) -> (version: String, manifest: Manifest)? {
    for version in versions.reversed() {
      if let m = try? manifest(dataset, version) { return (version, m) }
    }
    return nil
  }

  public func featureSetConflict(
    _ dataset: String, _ featureSet: Manifest.FeatureSetRef, latest: (version: String, manifest: Manifest)
  ) -> FeatureSetConflict? {
    let held = latest.manifest.featureSet
    guard held.name == featureSet.name else { return .otherFeatureSet(latest: latest.version, holds: held.name) }
    func clash(_ f: Manifest.FeatureSetRef) -> Bool { f.version == featureSet.version && f.sha256 != featureSet.sha256 }
    if clash(held) { return .editedInPlace(version: latest.version, sha256: held.sha256) }
    guard held.version != featureSet.version else { return nil }
    for version in versions(dataset).reversed() where version != latest.version {
      guard let m = try? manifest(dataset, version), m.featureSet.name == featureSet.name else { continue }
      if clash(m.featureSet) { return .editedInPlace(version: version, sha256: m.featureSet.sha256) }
    }
    return nil
  }

  /// Temporary folders in the dataset folder (`.tmp-*`), left by builds that died.
  public func temporaryFolders(_ dataset: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: datasetPath(dataset))) ?? []
    return names.filter { $0.hasPrefix(".tmp-") }.sorted()
  }

  func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
  }

  // MARK: Lock

  /// Takes `<root>/<dataset>/.lock` with `flock(LOCK_EX)`. Tries once without blocking; if
  /// another build holds it, calls `onWait` once with the holder's pid (read from the lock
  /// file, best effort: nil when none appeared within 200 ms) and polls every 100 ms until `timeout` seconds have passed, then throws
  /// `.lockTimeout`. flock belongs to the open file description, so two threads of one process
  /// that each open the file exclude each other as two processes do. The kernel drops the lock
  /// when its holder dies, so a killed build never leaves the dataset locked.
  public func lock(_ dataset: String, timeout: Double, onWait: (Int32?) -> Void = { _ in }) throws(SnapshotError)
    -> DatasetLock
  {
    try SnapshotStore.checkDatasetName(dataset)
    try makeDirectories(datasetPath(dataset))
    let path = "\(datasetPath(dataset))/.lock"
    let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    let start = Clocks.monotonicSeconds()
    let deadline = start + timeout
    var announced = false
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      guard code == EWOULDBLOCK || code == EINTR else {
        Glibc.close(fd)
        throw .io(path: path, operation: "flock", errno: code)
      }
      let holder = DatasetLock.readPID(fd)
      let now = Clocks.monotonicSeconds()
      // The holder writes its pid just after taking the flock; a file read in between is
      // empty. Builds hold the lock only briefly (staging, publish), so that gap is often
      // what a waiter sees: look again on the next poll before announcing without a pid.
      if !announced, holder != nil || now - start >= 0.2 || now >= deadline {
        onWait(holder)
        announced = true
      }
      if now >= deadline {
        Glibc.close(fd)
        throw .lockTimeout(dataset: dataset, holderPID: holder, seconds: timeout)
      }
      usleep(100_000)
    }
    // Record our pid for whoever waits next; the lock itself is the flock, not this text.
    let text = Array("\(getpid())\n".utf8)
    _ = ftruncate(fd, 0)
    _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    return DatasetLock(fd: fd, path: path)
  }

  /// Entries of a version folder that its manifest does not list (neither manifest.json nor a
  /// data file), in name order: `verify` reports each, and a build takes one for damage.
  static func unlisted(in folder: String, by manifest: Manifest) -> [String] {
    let listed = Set(manifest.files.map(\.path))
    let present = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    return present.filter { $0 != "manifest.json" && !listed.contains($0) }
  }

  /// The first way a version's data files differ from its manifest (missing, another size,
  /// another SHA-256), nil when every one matches.
  func damage(of manifest: Manifest, in folder: String) -> String? {
    if let stray = Self.unlisted(in: folder, by: manifest).first { return "\(stray) is not listed in the manifest" }
    for entry in manifest.files {
      let path = "\(folder)/\(entry.path)"
      guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
        attributes[.type] as? FileAttributeType == .typeRegular
      else { return "\(entry.path) is missing or not a regular file" }
      let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
      if size != entry.bytes { return "\(entry.path) is \(size) bytes, the manifest says \(entry.bytes)" }
      guard let sha = try? Digest.file(atPath: path) else { return "\(entry.path) cannot be read" }
      if sha != entry.sha256 {
        return "\(entry.path) has SHA-256 \(sha.prefix(12))…, the manifest says \(entry.sha256.prefix(12))…"
      }
    }
    return nil
  }

  // MARK: Publish

  /// What `publish` did.
  public enum PublishOutcome: Sendable, Equatable {
    case published(version: String, path: String)
    /// The content equals the latest version's: nothing was written.
    case unchanged(latest: String, path: String)
  }

  /// A new, empty temporary folder of `dataset` that builds can write data files into while
  /// they compute (so a build never holds every season's bytes in memory). It is created
  /// under the dataset lock and `flock`ed before the lock is released, so the stale-folder
  /// sweep of another build can always tell it from a dead build's folder; the kernel drops
  /// that flock when its owner dies.
  public func stage(_ dataset: String, lockTimeout: Double = 600, onWait: (Int32?) -> Void = { _ in })
    throws(SnapshotError)
    -> StagingFolder
  {
    let lock = try self.lock(dataset, timeout: lockTimeout, onWait: onWait)
    defer { lock.release() }
    removeStaleTemporaryFolders(dataset)
    let tmp = "\(datasetPath(dataset))/.tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    guard mkdir(tmp, 0o755) == 0 else { throw .io(path: tmp, operation: "mkdir", errno: errno) }
    let fd = Glibc.open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let code = errno
      if fd >= 0 { Glibc.close(fd) }
      try? FileManager.default.removeItem(atPath: tmp)
      throw .io(path: tmp, operation: "lock", errno: code)
    }
    Interruption.staged(tmp)
    return StagingFolder(dataset: dataset, path: tmp, fd: fd, store: self)
  }

  /// Publishes what `staging` holds plus the manifest `makeManifest(version, parent)` returns,
  /// as the next version, with one rename under the dataset lock; or, when
  /// `isUnchanged(latestManifest)` says the content equals the latest version's, removes
  /// `staging` and returns `.unchanged`. `admit(latest, latestManifest)` may refuse first by
  /// throwing. `staging` is consumed either way.
  public func publish(
    _ staging: StagingFolder, lockTimeout: Double = 600, onWait: (Int32?) -> Void = { _ in },
    admit: (_ latest: String, _ manifest: Manifest) throws -> Void = { _, _ in },
    isUnchanged: (Manifest) -> Bool,
    manifestBytes: (_ version: String, _ parent: String?) throws -> [UInt8],
    beforeRename: () -> Void = {},
    manifestDamage: (_ latest: String, _ manifest: Manifest) -> String? = { _, _ in nil },
    onDamagedLatest: (_ latest: String, _ damage: String) -> Void = { _, _ in }
  ) throws -> PublishOutcome {
    let dataset = staging.dataset
    defer { staging.discard() }
    let lock = try self.lock(dataset, timeout: lockTimeout, onWait: onWait)
    defer { lock.release() }
    removeStaleTemporaryFolders(dataset)

    let existing = versions(dataset)
    let latest = existing.last
    // Judged under the lock against what is published now (`admit` may refuse: staging goes).
    let readable = newestReadableManifest(dataset, among: existing)
    if let readable { try admit(readable.version, readable.manifest) }
    let latestManifest = readable?.version == latest ? readable?.manifest : nil
    if let latest, let manifest = latestManifest, isUnchanged(manifest) {
      // "Nothing changed" points the user at the latest version: only true when its files are
      // still the ones its manifest lists. A damaged one is replaced by a new version of the
      // same content (it is never repaired in place).
      guard let damage = manifestDamage(latest, manifest) ?? damage(of: manifest, in: versionPath(dataset, latest))
      else {
        return .unchanged(latest: latest, path: versionPath(dataset, latest))
      }
      onDamagedLatest(latest, damage)
    }
    let next = try nextVersion(dataset)
    try staging.write(name: "manifest.json", bytes: try manifestBytes(next, parentOfNext(dataset, among: existing)))
    try syncDirectory(staging.path)
    beforeRename()
    let target = versionPath(dataset, next)
    // Under the lock nobody else publishes; a target that exists anyway (made by hand) is
    // an error, never overwritten: rename(2) would replace an empty directory silently.
    if FileManager.default.fileExists(atPath: target) {
      throw SnapshotError.io(path: target, operation: "publish (already exists)", errno: EEXIST)
    }
    try Interruption.publish(staging.path, as: target) {
      guard rename(staging.path, target) == 0 else {
        throw SnapshotError.io(path: target, operation: "rename", errno: errno)
      }
      staging.published()
    }
    try syncDirectory(datasetPath(dataset))
    recordPublished(dataset, next)
    return .published(version: next, path: target)
  }

  /// Removes every `.tmp-*` folder of a dead build. Only called under the dataset lock. A live
  /// build holds an flock on its folder from the moment the folder exists (`stage`), so a
  /// folder whose flock can be taken here belongs to a build that died.
  @discardableResult
  public func removeStaleTemporaryFolders(_ dataset: String) -> [String] {
    var removed: [String] = []
    for name in temporaryFolders(dataset) {
      let path = "\(datasetPath(dataset))/\(name)"
      let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
      if fd >= 0 {
        defer { Glibc.close(fd) }
        // Held by a live build (this process's own staging folders included: flock is per
        // open file description).
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
      }
      try? FileManager.default.removeItem(atPath: path)
      removed.append(name)
    }
    return removed
  }

  /// `mkdir -p` with the real errno: FileManager reports Foundation error codes (642 for a
  /// read-only volume), which strerror cannot name.
  func makeDirectories(_ path: String) throws(SnapshotError) {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
      guard isDir.boolValue else { throw .io(path: path, operation: "mkdir", errno: ENOTDIR) }
      return
    }
    let parent = PathNames.parent(of: path)
    if !parent.isEmpty, parent != path { try makeDirectories(parent) }
    if mkdir(path, 0o755) != 0 {
      let code = errno
      if code != EEXIST { throw .io(path: path, operation: "mkdir", errno: code) }
    }
  }

  /// Creates `path` holding `bytes`, then fsyncs it.
  ///
  /// Whole 4 KiB blocks go out with O_DIRECT, staged through one aligned 1 MiB buffer: a
  /// buffered write copies every byte into page-cache pages the kernel must first find, charge
  /// and map (4.5 % of a 273k-row build's CPU samples on this project's machines, 0.55 %
  /// direct), and the build never reads its files back. The tail, and every byte
  /// on a file system that refuses O_DIRECT (tmpfs, some network and overlay file systems:
  /// EINVAL), is written the ordinary way. The bytes on disk and the fsync are the same
  /// either way.
  func writeSynced(_ path: String, _ bytes: [UInt8]) throws(SnapshotError) {
    let flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
    var fd = oDirect == 0 ? -1 : Glibc.open(path, flags | oDirect, 0o644)
    let direct = fd >= 0
    if oDirect == 0 || (fd < 0 && errno == EINVAL) { fd = Glibc.open(path, flags, 0o644) }
    guard fd >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
    defer { Glibc.close(fd) }
    var failure: SnapshotError?
    bytes.withUnsafeBytes { raw in
      do throws(SnapshotError) {
        var offset = 0
        if direct {
          let wholeBlocks = raw.count / Self.directBlock * Self.directBlock
          offset = try writeDirect(fd, path, UnsafeRawBufferPointer(rebasing: raw[..<wholeBlocks]))
          // Whatever is left (the tail, or everything if the file system refused) is buffered.
          if fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~oDirect) != 0 {
            throw .io(path: path, operation: "fcntl", errno: errno)
          }
        }
        while offset < raw.count {
          let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
          if n < 0 {
            if errno == EINTR { continue }
            throw .io(path: path, operation: "write", errno: errno)
          }
          offset += n
        }
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
  }

  /// O_DIRECT needs buffer addresses, lengths and file offsets aligned to the device's logical
  /// block size, at most 4 KiB on the devices Linux supports for it.
  static let directBlock = 4096
  static let directChunk = 1 << 20

  /// Writes `blocks` (a whole number of `directBlock`s) from offset 0 of an O_DIRECT `fd`;
  /// returns how many bytes were written. Stops early, without an error, where the file system
  /// turns out to refuse direct writes (EINVAL), so the caller writes the rest buffered.
  private func writeDirect(_ fd: Int32, _ path: String, _ blocks: UnsafeRawBufferPointer) throws(SnapshotError) -> Int {
    guard !blocks.isEmpty else { return 0 }
    let staging = UnsafeMutableRawPointer.allocate(
      byteCount: min(Self.directChunk, blocks.count), alignment: Self.directBlock)
    defer { staging.deallocate() }
    var offset = 0
    while offset < blocks.count {
      let count = min(Self.directChunk, blocks.count - offset)
      staging.copyMemory(from: blocks.baseAddress! + offset, byteCount: count)
      var done = 0
      while done < count {
        let n = Glibc.write(fd, staging + done, count - done)
        if n < 0 {
          if errno == EINTR { continue }
          if errno == EINVAL { return offset + done }
          throw .io(path: path, operation: "write", errno: errno)
        }
        // A short direct write ends on a block boundary or the write failed part-way; either
        // way the next call continues from an aligned offset or reports the error.
        done += n
        if n % Self.directBlock != 0 { return offset + done }
      }
      offset += count
    }
    return offset
  }

  func syncDirectory(_ path: String) throws(SnapshotError) {
    let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    defer { Glibc.close(fd) }
    guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
  }
}

/// A build's temporary folder (`SnapshotStore.stage`): files written here are invisible to
/// readers until `SnapshotStore.publish` renames the folder to a version. Dropping it without
/// publishing (`discard`, or the process dying) leaves nothing visible.
public final class StagingFolder: @unchecked Sendable {
  // One owner at a time (the thread writing the build's files); @unchecked because the owner
  // may change hands between threads, never concurrently.
  public let dataset: String
  public let path: String
  let fd: Int32
  let store: SnapshotStore
  private var open = true
  private var keep = false

  init(dataset: String, path: String, fd: Int32, store: SnapshotStore) {
    self.dataset = dataset
    self.path = path
    self.fd = fd
    self.store = store
  }

  /// Writes `name` and fsyncs it; the name must be new in this folder.
  public func write(name: String, bytes: [UInt8]) throws(SnapshotError) {
    try store.writeSynced("\(path)/\(name)", bytes)
  }

  /// The folder became a version: keep its files, drop the flock.
  func published() { keep = true }

  /// Removes the folder unless it was published, and drops the flock. Idempotent.
  public func discard() {
    guard open else { return }
    open = false
    if !keep {
      try? FileManager.default.removeItem(atPath: path)
      Interruption.released(path)
    }
    Glibc.close(fd)
  }

  deinit { discard() }
}

/// A held dataset lock; `release()` (or process exit) frees it.
public final class DatasetLock: @unchecked Sendable {
  // Not Sendable in spirit: one owner releases it; @unchecked only so tests can pass it to
  // a task that releases it.
  let fd: Int32
  public let path: String
  private var released = false

  init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  public func release() {
    guard !released else { return }
    released = true
    _ = flock(fd, LOCK_UN)
    Glibc.close(fd)
  }

  deinit { release() }

  static func readPID(_ fd: Int32) -> Int32? {
    var buf = [UInt8](repeating: 0, count: 32)
    let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return nil }
    let text = String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    // The pid of the last build that took the lock, which may be long gone while something
    // else (an `flock` by hand, a backup tool) holds it: a dead pid is not named.
    guard let pid = Int32(text), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return nil }
    return pid
  }
}

extension Manifest {
  /// Reads and decodes a manifest (lenient about unknown keys; `Verifier` is strict).
  public static func read(path: String) throws(SnapshotError) -> Manifest {
    if let kind = Verifier.notARegularFile(path) {
      throw .unreadableManifest(path: path, reason: "it \(kind), not a regular file")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      // A manifest this user may not read is not a missing one: say which.
      if let cause = Verifier.unreadableCause(path) { throw .unreadableManifest(path: path, reason: cause) }
      throw .notFound(path: path, what: "manifest")
    }
    let manifest: Manifest
    do {
      manifest = try JSONDecoder().decode(Manifest.self, from: data)
    } catch {
      throw .unreadableManifest(path: path, reason: describeDecodingError(error, data: data))
    }
    // show and diff compute with the stats; a histogram they cannot use stops here, named.
    if let problem = manifest.statsProblems().first { throw .unreadableManifest(path: path, reason: problem) }
    return manifest
  }
}

/// A decoding error as one readable line naming the key path.
func describeDecodingError(_ error: Error, data: Data? = nil) -> String {
  func path(_ keys: [CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
  }
  switch error {
  case DecodingError.keyNotFound(let key, let ctx):
    let p = path(ctx.codingPath + [key])
    return "missing field \(p)"
  case DecodingError.typeMismatch(let type, let ctx):
    return "field \(path(ctx.codingPath)) is not \(typeName(type))"
  case DecodingError.valueNotFound(let type, let ctx):
    return "field \(path(ctx.codingPath)) is null, expected \(typeName(type))"
  case DecodingError.dataCorrupted(let ctx):
    if ctx.codingPath.isEmpty {
      // Foundation reports an integer past Int64 (rows: 9223372036854775808) this way too,
      // without a path; name the number when that is what the text holds.
      if let data, let big = oversizedInteger(in: data) { return "the number \(big) does not fit a 64-bit integer" }
      // Where, as verify says it: "line 12, column 3: expected …".
      if let data {
        do { _ = try JSONValue.parse([UInt8](data)) } catch { return "not valid JSON (\(error))" }
      }
      return "not valid JSON"
    }
    return "field \(path(ctx.codingPath)): \(ctx.debugDescription)"
  default:
    return "\(error)"
  }
}

func typeName(_ type: Any.Type) -> String {
  switch type {
  case is String.Type: "a string"
  case is Int.Type, is UInt64.Type: "an integer"
  case is Double.Type: "a number"
  case is Bool.Type: "a boolean"
  default: "\(type)".contains("Array") ? "an array" : "an object"
  }
}

/// The first integer literal outside a JSON string that Int64 cannot hold, or nil. Numbers
/// with a fraction or exponent are Doubles and skipped whole.
func oversizedInteger(in data: Data) -> String? {
  var inString = false, escaped = false, isDouble = false
  var number: [UInt8] = []
  func end() -> String? {
    defer {
      number.removeAll()
      isDouble = false
    }
    guard !isDouble, !number.isEmpty, let text = String(bytes: number, encoding: .utf8) else { return nil }
    return Int64(text) == nil ? text : nil
  }
  for b in data {
    if inString {
      if escaped {
        escaped = false
      } else if b == UInt8(ascii: "\\") {
        escaped = true
      } else if b == UInt8(ascii: "\"") {
        inString = false
      }
      continue
    }
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"):
      number.append(b)
    case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
      number.append(b)
      isDouble = true
    default:
      if let big = end() { return big }
      if b == UInt8(ascii: "\"") { inString = true }
    }
  }
  return end()
}

/// Linux's O_DIRECT, which Glibc's Swift module leaves out (the C header defines it only under
/// _GNU_SOURCE); 0 where its value is not known here, and then files are written buffered.
#if os(Linux) && (arch(x86_64) || arch(i386))
  private let oDirect: Int32 = 0o40000
#elseif os(Linux) && arch(arm64)
  private let oDirect: Int32 = 0o200000
#else
  private let oDirect: Int32 = 0
#endif
