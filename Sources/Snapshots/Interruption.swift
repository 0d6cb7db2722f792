import Foundation
import Synchronization

/// What a build does when SIGINT, SIGTERM or SIGHUP arrives: the temporary folders of this process's
/// unpublished builds are removed at once (they could hold hundreds of MB until the next build
/// of the dataset), and no publish starts after that. A rename in progress finishes first: the
/// two take the same lock, so the version is either whole or absent and the message says which.
public enum Interruption {
  struct State {
    var staging: Set<String> = []
    var published: [String] = []
    var interrupted = false
  }

  static let state = Mutex(State())

  static func staged(_ path: String) { state.withLock { _ = $0.staging.insert(path) } }
  static func released(_ path: String) { state.withLock { _ = $0.staging.remove(path) } }

  /// Runs `rename` (the publish of `staging` as `target`) unless an interruption came first.
  static func publish(_ staging: String, as target: String, _ rename: () throws -> Void) throws {
    try state.withLock { s in
      guard !s.interrupted else {
        throw SnapshotError.io(path: target, operation: "publish (the build was interrupted)", errno: EINTR)
      }
      try rename()
      s.staging.remove(staging)
      s.published.append(target)
    }
  }

  /// Moved aside first: the writer threads are still creating files under the folder's name,
  /// and a file created while the folder is being emptied made its removal fail.
  static func remove(_ path: String) {
    let aside = path + "-interrupted"
    let target = rename(path, aside) == 0 ? aside : path
    for _ in 0..<3 {
      if (try? FileManager.default.removeItem(atPath: target)) != nil || !FileManager.default.fileExists(atPath: target)
      {
        return
      }
    }
  }

  /// Removes the unpublished temporary folders, stops any later publish, and runs `then` with
  /// what was removed and what this process published, still holding the lock so that no
  /// rename can start: `then` is expected to end the process.
  public static func stop(then: (_ removed: [String], _ published: [String]) -> Void) {
    state.withLock { s in
      s.interrupted = true
      let removed = s.staging.sorted()
      for path in removed { remove(path) }
      s.staging.removeAll()
      then(removed, s.published)
    }
  }
}
