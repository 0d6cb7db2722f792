import Clocks
import Columnar
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The SHA-256 of a source database file, remembered from one build to the next for as long
/// as the file provably has not changed, so building one season out of a large warehouse
/// export does not spend most of its time hashing a file it hashed yesterday.
///
/// Why: the manifest records the SHA-256 of the whole database file (snapshot.md). One season
/// built out of a 487 MiB export took 0.49 s, and hashing the file alone takes 0.46 s on one
/// core with the CPU's SHA instructions (docs/BENCH.md, session 8): the daily command was the
/// hash. DVC and git skip re-hashing unchanged files the same way, by file identity.
///
/// A remembered digest is used only when the file's device, inode, size, modification time and
/// status-change time (both to the nanosecond) are all exactly those it was hashed under. Any
/// write to the file, a copy or move over it, a `touch` or a restored modification time changes
/// the status-change time, which no ordinary program can set back. Two guards keep a file that
/// was changing from being remembered: its identity must be the same before and after hashing,
/// and its last change must be at least `settle` seconds older than the hashing, so that a
/// change within a coarse timestamp tick (one or two seconds on some file systems) of the hash
/// cannot share the remembered identity.
///
/// The memory is `<root>/.cache/source-sha256.json`, beside the datasets (`datasets()` skips
/// names starting with "."). It only ever saves time: a missing, unreadable or malformed file,
/// or one that cannot be written, means the file is hashed, never that a build fails.
public struct SourceDigestCache: Sendable {
  public let path: String
  /// Seconds a file must have been left alone before its digest is remembered.
  let settle: Double
  /// Entries kept: one per source file, the most recently hashed first.
  static let capacity = 32

  public init(root: String, settle: Double = 3) {
    path = "\(root)/.cache/source-sha256.json"
    self.settle = settle
  }

  /// What identifies one state of a file's content for as long as nobody writes to it.
  struct Identity: Codable, Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedNanos: Int64
    var changedNanos: Int64

    init?(path: String) {
      var st = stat()
      guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
      device = UInt64(st.st_dev)
      inode = UInt64(st.st_ino)
      size = Int64(st.st_size)
      modifiedNanos = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
      changedNanos = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }
  }

  struct Entry: Codable {
    /// For a person reading the file; matching is by identity alone.
    var file: String
    var identity: Identity
    var sha256: String
    var hashedAtMicros: Int64
    /// SHA-256 of the fields above (`seal`): an entry edited or damaged so that it still
    /// parses would otherwise put a wrong digest into the manifest, where `verify` cannot see
    /// it. Protects against accidents, not against someone who recomputes it.
    var check: String

    init(file: String, identity: Identity, sha256: String, hashedAtMicros: Int64) {
      self.file = file
      self.identity = identity
      self.sha256 = sha256
      self.hashedAtMicros = hashedAtMicros
      check = ""
      check = seal
    }

    var seal: String {
      let i = identity
      return Digest.hex(
        Array(
          "\(file)\n\(i.device) \(i.inode) \(i.size) \(i.modifiedNanos) \(i.changedNanos)\n\(sha256)\n\(hashedAtMicros)\n"
            .utf8))
    }
    var isIntact: Bool { SourceDigestCache.isDigest(sha256) && check == seal }
  }

  struct Document: Codable {
    /// 2 since session 16 (entries carry `check`); a format-1 file is ignored and rewritten.
    var format = 2
    var entries: [Entry] = []
  }

  /// The file holds at most `capacity` entries of a few hundred bytes: anything much larger is
  /// not ours, and is not read (a sparse 3 GiB file made a build spend 20 s parsing it).
  static let largestFile = 1 << 20

  /// The file's SHA-256, and whether it was remembered rather than computed. With
  /// `reuse: false` the file is always hashed (and the result remembered). `holdOpenUntil`:
  /// see `Digest.file`.
  public func sha256(
    ofFileAt file: String, reuse: Bool = true, holdOpenUntil: (() -> Void)? = nil, stop: StopFlag? = nil
  )
    throws(SnapshotError) -> (sha256: String, reused: Bool)
  {
    guard let before = Identity(path: file) else {
      // Not a regular file we can stat: hashing it reports the problem in its own words.
      return (try Digest.file(atPath: file, holdOpenUntil: holdOpenUntil, stop: stop), false)
    }
    if reuse, let known = load().entries.first(where: { $0.identity == before }), known.isIntact {
      return (known.sha256, true)
    }
    let startedMicros = Clocks.realtimeMicros()
    let digest = try Digest.file(atPath: file, holdOpenUntil: holdOpenUntil, stop: stop)
    let settledBefore = (startedMicros - Int64(settle * 1_000_000)) * 1000
    if let after = Identity(path: file), after == before,
      max(before.modifiedNanos, before.changedNanos) < settledBefore
    {
      let absolute = URL(fileURLWithPath: file).standardizedFileURL.path
      remember(Entry(file: absolute, identity: before, sha256: digest, hashedAtMicros: startedMicros))
    }
    return (digest, false)
  }

  static func isDigest(_ s: String) -> Bool {
    s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }

  func load() -> Document {
    var st = stat()
    guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) <= Self.largestFile,
      let data = FileManager.default.contents(atPath: path), data.count <= Self.largestFile,
      let document = try? JSONDecoder().decode(Document.self, from: data), document.format == Document().format
    else { return Document() }
    return document
  }

  /// Replaces the file's entry (by device and inode) and writes the memory atomically: a
  /// temporary file renamed over the old one, so a concurrent build reads either version,
  /// and a build that loses a race only loses its entry.
  private func remember(_ entry: Entry) {
    var document = load()
    document.entries.removeAll {
      $0.identity.device == entry.identity.device && $0.identity.inode == entry.identity.inode
    }
    document.entries.insert(entry, at: 0)
    document.entries = Array(document.entries.prefix(Self.capacity))
    guard let data = try? Data(PrettyJSONEncoder.encode(document)) else { return }
    let folder = PathNames.parent(of: path)
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
    if rename(temporary, path) != 0 { unlink(temporary) }
  }
}

/// A one-way flag, set from any thread and read from another: the build uses it to stop its
/// source hash early and to tell the season loop that a gate failed.
public final class StopFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  public init() {}
  public func set() { flag.store(true, ordering: .relaxed) }
  public var isSet: Bool { flag.load(ordering: .relaxed) }
}
