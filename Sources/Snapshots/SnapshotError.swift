#if canImport(Glibc)
  import Glibc
#endif

/// Everything that can go wrong storing or reading snapshots, with the evidence.
public enum SnapshotError: Error, Equatable, CustomStringConvertible {
  /// A system call failed on `path`.
  case io(path: String, operation: String, errno: Int32)
  /// Another build held the dataset's lock for longer than the timeout.
  case lockTimeout(dataset: String, holderPID: Int32?, seconds: Double)
  /// A dataset or version name that is not allowed (path separators, leading dot, …).
  case badName(kind: String, name: String, expected: String)
  /// `show`/`diff` asked for something that is not there.
  case notFound(path: String, what: String)
  /// A manifest that cannot be read at all (for commands other than verify).
  case unreadableManifest(path: String, reason: String)
  /// No next version can be published into the dataset at `path`, and why.
  case noNextVersion(path: String, reason: String)

  public var description: String {
    switch self {
    case .io(let path, let operation, let code):
      return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
    case .lockTimeout(let dataset, let pid, let seconds):
      let who = pid.map { "pid \($0)" } ?? "unknown pid"
      let waited =
        seconds > 0
        ? "still running (\(who)) after waiting \(formatSeconds(seconds))"
        : "running (\(who)), and --lock-timeout 0 does not wait"
      return "another build of \(dataset) is \(waited); try again when it finishes"
    case .badName(let kind, let name, let expected):
      return "\(kind) name \"\(name)\" is not allowed: expected \(expected)"
    case .notFound(let path, let what):
      return "\(path): no such \(what)"
    case .unreadableManifest(let path, let reason):
      return "\(path): cannot read manifest: \(reason)"
    case .noNextVersion(let path, let reason):
      return "\(path): \(reason)"
    }
  }
}

func formatSeconds(_ s: Double) -> String {
  s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
}
