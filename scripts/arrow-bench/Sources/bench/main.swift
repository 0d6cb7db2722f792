import ArrowIPC
import Columnar

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// A feature-like table from the real 2022-23 NBA.com player logs: per player, the mean of 20
// box-score stats over the previous 3 and 10 games and the season to date (strictly before
// the game): 60 float64 columns with NULLs where a player has no history, plus id, name, date.
// Then: best-of-7 encode and read times for both compressions, and the file sizes.

func fail(_ message: String) -> Never {
  FileHandleErr.write(message + "\n")
  exit(1)
}

enum FileHandleErr {
  static func write(_ s: String) { _ = Array(s.utf8).withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) } }
}

func readFile(_ path: String) -> [UInt8] {
  guard let f = fopen(path, "rb") else { fail("cannot open \(path)") }
  defer { fclose(f) }
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
    out += chunk[0..<n]
    if n < chunk.count { return out }
  }
}

func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let path =
  CommandLine.arguments.count > 1
  ? CommandLine.arguments[1] : "../shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv"
let text = String(decoding: readFile(path), as: UTF8.self)
var lines = text.split(separator: "\n").map {
  $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
}
guard !lines.isEmpty else { fail("\(path) is empty") }
let header = lines.removeFirst()
let stats = [
  "MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF",
  "PLUS_MINUS", "FG_PCT", "FT_PCT", "FG3_PCT",
]
func column(_ name: String) -> Int {
  guard let i = header.firstIndex(of: name) else { fail("\(path) has no column \(name)") }
  return i
}
let (dateAt, idAt, nameAt) = (column("GAME_DATE"), column("PLAYER_ID"), column("PLAYER_NAME"))
let statAt = stats.map(column)
lines = lines.filter { $0.count == header.count }
lines.sort { ($0[dateAt], $0[idAt]) < ($1[dateAt], $1[idAt]) }

var history: [String: [[Double?]]] = [:]
var means = [[Double?]](repeating: [], count: stats.count * 3)
var ids = Column<Int64>(), names = StringColumn(), dates = Column<Date32>()
for l in lines {
  let past = history[l[idAt], default: []]
  for s in stats.indices {
    for (w, window) in [3, 10, Int.max].enumerated() {
      let values = past.suffix(min(window, past.count)).compactMap { $0[s] }
      means[s * 3 + w].append(values.isEmpty ? nil : values.reduce(0, +) / Double(values.count))
    }
  }
  history[l[idAt], default: []].append(statAt.map { Double(l[$0]) })
  ids.append(Int64(l[idAt]))
  names.append(l[nameAt])
  dates.append(Date32(iso: l[dateAt]))
}
var table = Table(rowCount: lines.count)
table.append(Field(name: "player_id", type: .int64), .int64(ids))
table.append(Field(name: "player", type: .utf8), .utf8(names))
table.append(Field(name: "game_date", type: .date32), .date32(dates))
for (s, name) in stats.enumerated() {
  for (w, label) in ["l3", "l10", "std"].enumerated() {
    table.append(
      Field(name: "\(name.lowercased())_\(label)", type: .float64), .float64(Column(optionals: means[s * 3 + w])))
  }
}
let valueBytes = table.columns.reduce(0) { acc, c in
  switch c {
  case .float64(let x): acc + 8 * x.count
  case .int64(let x): acc + 8 * x.count
  case .int32(let x): acc + 4 * x.count
  case .date32(let x): acc + 4 * x.count
  case .bool(let x): acc + (x.count + 7) / 8
  case .utf8(let x): acc + x.bytes.count + 4 * x.count
  }
}
print("table: \(table.rowCount) rows x \(table.columns.count) columns, \(valueBytes) bytes of values")
do {
  for compression in ArrowCompression.allCases {
    var bestEncode = Double.infinity, bestRead = Double.infinity
    var bytes: [UInt8] = []
    for _ in 0..<7 {
      let t0 = now()
      bytes = try ArrowFile.encode(table, compression: compression)
      bestEncode = min(bestEncode, now() - t0)
    }
    for _ in 0..<7 {
      let t0 = now()
      let back = try ArrowFileReader(bytes: bytes).readAll()
      bestRead = min(bestRead, now() - t0)
      guard back.rowCount == table.rowCount else { fail("read back \(back.rowCount) rows") }
    }
    func mbps(_ t: Double) -> Int { Int(Double(valueBytes) / t / 1e6) }
    print(
      "\(compression.rawValue): \(bytes.count) bytes; encode \(Int(bestEncode * 1000)) ms (\(mbps(bestEncode)) MB/s);"
        + " read \(Int(bestRead * 1000)) ms (\(mbps(bestRead)) MB/s)")
  }
} catch {
  fail("\(error)")
}
