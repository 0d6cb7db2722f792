import Dispatch
import Foundation
import Snapshots

/// SIGINT (Ctrl-C), SIGTERM (a scheduler's timeout) and SIGHUP (the terminal or ssh session
/// that started it went away) during a build: say what happened, remove
/// the build's temporary folder instead of leaving it (up to hundreds of MB) for the next build
/// of the dataset to find, and exit with 128 + the signal as the shell would. A publish already
/// renaming finishes first and the message names it (`Interruption`). A signal ignored when the
/// build started (a shell's `build &`, some schedulers) stays ignored, as it did before.
final class InterruptWatch {
  private var sources: [DispatchSourceSignal] = []
  private var previous: [(Int32, __sighandler_t?)] = []

  init() {
    for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
      let before = signal(number, SIG_IGN)
      guard unsafeBitCast(before, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self) else { continue }
      previous.append((number, before))
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        Interruption.stop { removed, published in
          var text = isatty(2) != 0 ? "\n" : ""
          text += "interrupted by \(name): "
          text += published.isEmpty ? "nothing was published" : "after publishing \(published.joined(separator: ", "))"
          if !removed.isEmpty { text += "; removed its temporary folder \(removed.joined(separator: ", "))" }
          text += "\n"
          _ = text.withCString { write(2, $0, strlen($0)) }
          _exit(128 + number)
        }
      }
      source.resume()
      sources.append(source)
    }
  }

  /// The build is over (in-process callers, the tests): signals act as before again.
  deinit {
    for source in sources { source.cancel() }
    for (number, handler) in previous { signal(number, handler) }
  }
}
