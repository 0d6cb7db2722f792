#if canImport(Glibc)
  import Glibc
#endif

/// Whether a source database was written to while a build read and hashed it.
///
/// The read holds SQLite's shared lock for its transaction, but the file's SHA-256 runs on
/// after it for a large file (one season of a 523 MiB export: the read ends after about 0.1 s,
/// the hash after about 0.5 s), and a writer committing in between would leave a manifest
/// whose file digest is not the file the rows came from. So the build takes the file's state
/// before the read starts and compares it once the hash is done:
/// - SQLite's file change counter (header offset 24), which every commit in rollback-journal
///   mode increments and which readers never touch;
/// - the file's identity as `SourceDigestCache` defines it (device, inode, size, modification
///   and status-change times), which catches a copy or move over the path and any other write.
///
/// In WAL mode (header bytes 18 and 19 are 2) commits go to the `-wal` file and leave the
/// counter alone: only the identity is compared there.
///
/// The descriptor this keeps is closed by `close()`, which the build calls only once no SQLite
/// connection of the process has the file open: closing any descriptor of a file releases every
/// POSIX lock the process holds on it, SQLite's included.
public final class SourceFileWatch: @unchecked Sendable {
  public let path: String
  private var fd: Int32
  private let before: State

  struct State: Equatable {
    var identity: SourceDigestCache.Identity?
    /// Bytes 18–19 (read and write format versions) and 24–27 (the change counter).
    var header: [UInt8]
  }

  /// Nil when the file cannot be opened: the read then reports the problem in its own words.
  public init?(path: String) {
    self.path = path
    fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    before = Self.state(fd: fd, path: path)
  }

  deinit { close() }

  private static func state(fd: Int32, path: String) -> State {
    var bytes = [UInt8](repeating: 0, count: 28)
    let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 28, 0) }
    let header = n == 28 ? Array(bytes[18..<20]) + Array(bytes[24..<28]) : []
    return State(identity: SourceDigestCache.Identity(path: path), header: header)
  }

  /// Nil when the file is as it was when this was made; else what changed, for the message.
  public func change() -> String? {
    guard fd >= 0 else { return nil }
    let now = Self.state(fd: fd, path: path)
    if now.header != before.header {
      let counter = { (h: [UInt8]) in h.count == 6 ? h[2...].reduce(0) { $0 << 8 | Int($1) } : -1 }
      return "SQLite's change counter went from \(counter(before.header)) to \(counter(now.header))"
    }
    if now.identity != before.identity {
      guard let a = before.identity, let b = now.identity else { return "the file can no longer be found" }
      if a.device != b.device || a.inode != b.inode { return "another file was put in its place" }
      if a.size != b.size { return "its size changed (\(a.size) → \(b.size) bytes)" }
      return "it was written to (its modification or status-change time moved)"
    }
    return nil
  }

  public func close() {
    if fd >= 0 { _ = Glibc.close(fd) }
    fd = -1
  }

  /// In WAL mode, the bytes of the `-wal` file past its 32-byte header, now:
  /// commits a checkpoint has not yet copied into the main file. The rows read include them,
  /// the file's SHA-256 does not. Nil in rollback mode or without a `-wal` file.
  public var pendingWALBytes: Int? {
    guard before.header.count == 6, before.header[0] == 2 || before.header[1] == 2 else { return nil }
    var st = stat()
    guard stat(path + "-wal", &st) == 0, st.st_size > 32 else { return nil }
    return Int(st.st_size) - 32
  }
}
