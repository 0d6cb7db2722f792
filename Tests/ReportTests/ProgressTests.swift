import DatasetCLI
import Testing

/// A clock the test moves by hand and a sink that keeps what was written.
final class FakeTerminal {
  var t = 100.0
  var written: [String] = []
}

func reporter(_ style: ProgressReporter.Style, total: Int?, columns: Int = 100, _ term: FakeTerminal)
  -> ProgressReporter
{
  ProgressReporter(
    label: "import", unit: "rows", total: total, style: style, columns: columns, lineInterval: 5,
    redrawInterval: 0.1, now: { term.t }, write: { term.written.append($0) })
}

@Suite struct ProgressTests {
  @Test func barShowsCountRateAndETA() {
    let term = FakeTerminal()
    let p = reporter(.bar, total: 40_000, term)
    term.t += 2
    p.update(done: 10_000)
    #expect(
      term.written == [
        "\rimport [#######-----------------------] 25.0 %  10,000/40,000 rows  5,000 rows/s  ETA 6.0 s\u{1B}[K"
      ])
    term.t += 0.05
    p.update(done: 10_100)  // within the redraw interval: nothing drawn
    #expect(term.written.count == 1)
    term.t += 5.95
    p.update(done: 40_000)
    p.finish()
    #expect(
      term.written.suffix(2) == [
        "\rimport [##############################] 100.0 %  40,000/40,000 rows  5,000 rows/s  8.0 s\u{1B}[K",
        "\rimport [##############################] 100.0 %  40,000/40,000 rows  5,000 rows/s  8.0 s\u{1B}[K\n",
      ])
  }

  @Test func barIsCutToANarrowTerminal() {
    let term = FakeTerminal()
    let p = reporter(.bar, total: 1_000_000, columns: 40, term)
    term.t += 1
    p.update(done: 250_000)
    let line = term.written[0].dropFirst().replacingOccurrencesOfEscape()
    #expect(line.count <= 39)
    #expect(line == "import 25.0 %  250,000/1,000,000 rows")
  }

  @Test func plainLinesEveryIntervalAndADoneLine() {
    let term = FakeTerminal()
    let p = reporter(.lines, total: 3, term)
    term.t += 1
    p.update(done: 1)
    #expect(term.written.isEmpty)
    term.t += 4
    p.update(done: 2)
    term.t += 100
    p.update(done: 3)
    p.finish()
    p.finish()
    #expect(
      term.written == [
        "import: 2 of 3 rows (66.6 %), 0.4 rows/s, ETA 2.5 s\n",
        "import: 3 of 3 rows (100.0 %), 1.7 rows/min\n",
        "import: done, 3 rows in 1 min 45 s, 1.7 rows/min\n",
      ])
  }

  @Test func quietWritesNothing() {
    let term = FakeTerminal()
    let p = reporter(.silent, total: 10, term)
    for k in 1...10 {
      term.t += 10
      p.update(done: k)
    }
    p.finish()
    #expect(term.written.isEmpty)
    #expect(p.done == 10)
  }

  @Test func unknownTotalShowsCountAndRateOnly() {
    let term = FakeTerminal()
    let p = reporter(.lines, total: nil, term)
    term.t += 10
    p.update(done: 1234)
    #expect(term.written == ["import: 1,234 rows, 123 rows/s\n"])
  }
}

extension Substring {
  /// Drops the clear-to-end-of-line escape.
  func replacingOccurrencesOfEscape() -> String {
    String(self.prefix { $0 != "\u{1B}" })
  }
}

@Suite struct ProgressShortWorkTests {
  @Test func aFailedPhaseSaysWhereItStopped() {
    let term = FakeTerminal()
    let p = reporter(.lines, total: 4, term)
    term.t += 6
    p.update(done: 1)
    term.t += 1
    p.finish(completed: false)
    #expect(
      term.written == [
        "import: 1 of 4 rows (25.0 %), 0.1 rows/s, ETA 18 s\n", "import: stopped at 1 of 4 rows after 7.0 s\n",
      ])
    let bar = FakeTerminal()
    let b = reporter(.bar, total: 4, bar)
    bar.t += 1
    b.update(done: 1)
    b.finish(completed: false)
    #expect(
      bar.written.last
        == "\rimport [#######-----------------------] 25.0 %  1/4 rows  1.0 rows/s  ETA 3.0 s\u{1B}[K stopped\n")
  }

  @Test func shortWorkInALogPrintsNothing() {
    let term = FakeTerminal()
    let p = reporter(.lines, total: 100, term)
    for k in 1...100 {
      term.t += 0.04
      p.update(done: k)
    }
    p.finish()
    #expect(term.written.isEmpty)
  }

  @Test func phasesGetTheirOwnLabelAndUnitAndEndInOrder() {
    let term = FakeTerminal()
    let phased = PhasedProgress(command: "import", quiet: false, unit: { $0 == "reading" ? "files" : "rows" }) {
      label, unit, total in
      ProgressReporter(
        label: label, unit: unit, total: total, style: .bar, columns: 100, now: { term.t },
        write: { term.written.append($0) })
    }
    phased.update("reading", 0, 2)
    term.t += 1
    phased.update("reading", 2, 2)
    term.t += 1
    phased.update("writing PGS", 0, 10)
    term.t += 1
    phased.update("writing PGS", 10, 10)
    phased.finish()
    phased.finish()
    #expect(
      term.written == [
        // Nothing at 0: the first draw waits for the redraw interval.
        "\rimport: reading [##############################] 100.0 %  2/2 files  2.0 files/s  1.0 s\u{1B}[K",
        // The phase ends when the next one starts, one second later.
        "\rimport: reading [##############################] 100.0 %  2/2 files  1.0 files/s  2.0 s\u{1B}[K\n",
        // A longer label leaves room for 29 marks at 100 columns.
        "\rimport: writing PGS [#############################] 100.0 %  10/10 rows  10 rows/s  1.0 s\u{1B}[K",
        "\rimport: writing PGS [#############################] 100.0 %  10/10 rows  10 rows/s  1.0 s\u{1B}[K\n",
      ])
  }
}
