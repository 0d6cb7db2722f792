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

  /// Dataset names become folder names: letters, digits, `_`, `-`, `.`, not starting with `.`.
  public static func checkDatasetName(_ name: String) throws(SnapshotError) {
    let ok = !name.isEmpty && name.count <= 100 && !name.hasPrefix(".")
      && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0)) }
    guard ok else {
      throw .badName(kind: "dataset", name: name, expected: "letters, digits, '_', '-' or '.', not starting with '.'")
    }
  }

  public func datasetPath(_ dataset: String) -> String { "\(root)/\(dataset)" }
  public func versionPath(_ dataset: String, _ version: String) -> String { "\(root)/\(dataset)/\(version)" }

  /// Datasets under the root, sorted by name (folders that hold at least one version).
  public func datasets() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return names.filter { !$0.hasPrefix(".") && !versions($0).isEmpty }.sorted()
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

  /// Reads a published manifest (not verified: `Verifier` does that).
  public func manifest(_ dataset: String, _ version: String) throws(SnapshotError) -> Manifest {
    try Manifest.read(path: "\(versionPath(dataset, version))/manifest.json")
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
  /// file, best effort) and polls every 100 ms until `timeout` seconds have passed, then throws
  /// `.lockTimeout`. flock belongs to the open file description, so two threads of one process
  /// that each open the file exclude each other as two processes do. The kernel drops the lock
  /// when its holder dies, so a killed build never leaves the dataset locked.
  public func lock(_ dataset: String, timeout: Double, onWait: (Int32?) -> Void = { _ in }) throws(SnapshotError) -> DatasetLock {
    try SnapshotStore.checkDatasetName(dataset)
    try makeDirectories(datasetPath(dataset))
    let path = "\(datasetPath(dataset))/.lock"
    let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    let deadline = monotonicSeconds() + timeout
    var announced = false
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      guard code == EWOULDBLOCK || code == EINTR else {
        Glibc.close(fd)
        throw .io(path: path, operation: "flock", errno: code)
      }
      let holder = DatasetLock.readPID(fd)
      if !announced {
        onWait(holder)
        announced = true
      }
      if monotonicSeconds() >= deadline {
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

  // MARK: Publish

  /// What `publish` did.
  public enum PublishOutcome: Sendable, Equatable {
    case published(version: String, path: String)
    /// The content equals the latest version's: nothing was written.
    case unchanged(latest: String, path: String)
  }

  /// One file of a version to be: a plain name and its bytes.
  public struct PendingFile: Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
      self.name = name
      self.bytes = bytes
    }
  }

  /// Publishes `files` plus the manifest `makeManifest(version, parent)` returns, as the next
  /// version of `dataset`, unless `isUnchanged(latestManifest)` says the content is the same
  /// as the latest version's. `beforeRename` is a test hook run after everything is written
  /// and synced, just before the rename.
  public func publish(
    dataset: String, files: [PendingFile], lockTimeout: Double = 600,
    onWait: (Int32?) -> Void = { _ in },
    isUnchanged: (Manifest) -> Bool,
    makeManifest: (_ version: String, _ parent: String?) throws -> Manifest,
    beforeRename: () -> Void = {}
  ) throws -> PublishOutcome {
    let lock = try self.lock(dataset, timeout: lockTimeout, onWait: onWait)
    defer { lock.release() }
    removeStaleTemporaryFolders(dataset)

    let existing = versions(dataset)
    let latest = existing.last
    if let latest, let manifest = try? self.manifest(dataset, latest), isUnchanged(manifest) {
      return .unchanged(latest: latest, path: versionPath(dataset, latest))
    }
    let next = "v\((latest.flatMap(SnapshotStore.versionNumber) ?? 0) + 1)"
    let manifest = try makeManifest(next, latest)

    let tmp = "\(datasetPath(dataset))/.tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    guard mkdir(tmp, 0o755) == 0 else { throw SnapshotError.io(path: tmp, operation: "mkdir", errno: errno) }
    do {
      for f in files { try writeSynced("\(tmp)/\(f.name)", f.bytes) }
      try writeSynced("\(tmp)/manifest.json", try manifest.encoded())
      try syncDirectory(tmp)
      beforeRename()
      let target = versionPath(dataset, next)
      // Under the lock nobody else publishes; a target that exists anyway (made by hand) is
      // an error, never overwritten: rename(2) would replace an empty directory silently.
      if FileManager.default.fileExists(atPath: target) {
        throw SnapshotError.io(path: target, operation: "publish (already exists)", errno: EEXIST)
      }
      guard rename(tmp, target) == 0 else { throw SnapshotError.io(path: target, operation: "rename", errno: errno) }
      try syncDirectory(datasetPath(dataset))
      return .published(version: next, path: target)
    } catch {
      try? FileManager.default.removeItem(atPath: tmp)
      throw error
    }
  }

  /// Removes every `.tmp-*` folder. Only called under the lock: a live build always holds the
  /// lock while its temporary folder exists, so any folder seen here belongs to a dead one.
  @discardableResult
  public func removeStaleTemporaryFolders(_ dataset: String) -> [String] {
    let stale = temporaryFolders(dataset)
    for name in stale { try? FileManager.default.removeItem(atPath: "\(datasetPath(dataset))/\(name)") }
    return stale
  }

  func makeDirectories(_ path: String) throws(SnapshotError) {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw .io(path: path, operation: "mkdir", errno: (error as NSError).code == 0 ? EIO : Int32(truncatingIfNeeded: (error as NSError).code))
    }
  }

  func writeSynced(_ path: String, _ bytes: [UInt8]) throws(SnapshotError) {
    let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
    defer { Glibc.close(fd) }
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, operation: "write", errno: errno)
      }
      offset += n
    }
    guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
  }

  func syncDirectory(_ path: String) throws(SnapshotError) {
    let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    defer { Glibc.close(fd) }
    guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
  }
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
    return Int32(text)
  }
}

func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

extension Manifest {
  /// Reads and decodes a manifest (lenient about unknown keys; `Verifier` is strict).
  public static func read(path: String) throws(SnapshotError) -> Manifest {
    guard let data = FileManager.default.contents(atPath: path) else { throw .notFound(path: path, what: "manifest") }
    do {
      return try JSONDecoder().decode(Manifest.self, from: data)
    } catch {
      throw .unreadableManifest(path: path, reason: describeDecodingError(error))
    }
  }
}

/// A decoding error as one readable line naming the key path.
func describeDecodingError(_ error: Error) -> String {
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
    if ctx.codingPath.isEmpty { return "not valid JSON" }
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
