/// A column of any supported type. This is the unit the Arrow writer and reader exchange.
public enum AnyColumn: Sendable, Equatable {
  case int32(Column<Int32>)
  case int64(Column<Int64>)
  case float64(Column<Double>)
  case bool(Column<Bool>)
  case utf8(StringColumn)
  case date32(Column<Date32>)

  public var type: ColumnType {
    switch self {
    case .int32: .int32
    case .int64: .int64
    case .float64: .float64
    case .bool: .bool
    case .utf8: .utf8
    case .date32: .date32
    }
  }

  public var count: Int {
    switch self {
    case .int32(let c): c.count
    case .int64(let c): c.count
    case .float64(let c): c.count
    case .bool(let c): c.count
    case .utf8(let c): c.count
    case .date32(let c): c.count
    }
  }

  public var validity: ValidityBitmap {
    switch self {
    case .int32(let c): c.validity
    case .int64(let c): c.validity
    case .float64(let c): c.validity
    case .bool(let c): c.validity
    case .utf8(let c): c.validity
    case .date32(let c): c.validity
    }
  }

  public var nullCount: Int { validity.nullCount }

  /// Rows `range` of this column, as a new column.
  public func slice(_ range: Range<Int>) -> AnyColumn {
    gather(Array(range))
  }

  public func gather(_ indices: [Int]) -> AnyColumn {
    switch self {
    case .int32(let c): .int32(c.gather(indices))
    case .int64(let c): .int64(c.gather(indices))
    case .float64(let c): .float64(c.gather(indices))
    case .bool(let c): .bool(c.gather(indices))
    case .utf8(let c): .utf8(c.gather(indices))
    case .date32(let c): .date32(c.gather(indices))
    }
  }

  /// The value at `index` as a Double, for statistics; nil for NULL and for strings.
  public func numericValue(at index: Int) -> Double? {
    switch self {
    case .int32(let c): c[index].map(Double.init)
    case .int64(let c): c[index].map(Double.init)
    case .float64(let c): c[index]
    case .bool(let c): c[index].map { $0 ? 1 : 0 }
    case .date32(let c): c[index].map { Double($0.daysSinceEpoch) }
    case .utf8: nil
    }
  }

  public func checkInvariants() {
    switch self {
    case .int32(let c): c.checkInvariants()
    case .int64(let c): c.checkInvariants()
    case .float64(let c): c.checkInvariants()
    case .bool(let c): c.checkInvariants()
    case .utf8(let c): c.checkInvariants()
    case .date32(let c): c.checkInvariants()
    }
  }
}

/// A column's name, type and nullability, plus a one-line meaning for people and manifests.
public struct Field: Sendable, Equatable, Codable {
  public var name: String
  public var type: ColumnType
  public var nullable: Bool
  public var meaning: String
  /// Further key/value pairs that travel with the column (Arrow field custom_metadata), in
  /// this order, after `meaning`.
  public var metadata: [Metadatum]

  public init(name: String, type: ColumnType, nullable: Bool = true, meaning: String = "", metadata: [Metadatum] = []) {
    self.name = name
    self.type = type
    self.nullable = nullable
    self.meaning = meaning
    self.metadata = metadata
  }

  /// The value of metadata `key`, nil when it has none.
  public func metadata(_ key: String) -> String? { metadata.first { $0.key == key }?.value }
}

/// One key/value pair of a field's or a file's metadata.
public struct Metadatum: Sendable, Equatable, Codable {
  public var key: String
  public var value: String
  public init(_ key: String, _ value: String) {
    self.key = key
    self.value = value
  }
}

/// Named, typed columns of equal length.
public struct Table: Sendable, Equatable {
  public private(set) var fields: [Field]
  public private(set) var columns: [AnyColumn]
  public private(set) var rowCount: Int

  public init(rowCount: Int) {
    fields = []
    columns = []
    self.rowCount = rowCount
  }

  public init(fields: [Field], columns: [AnyColumn]) {
    precondition(fields.count == columns.count, "one field per column")
    let rows = columns.first?.count ?? 0
    for (f, c) in zip(fields, columns) {
      precondition(c.count == rows, "column \(f.name) has \(c.count) rows, expected \(rows)")
      precondition(c.type == f.type, "column \(f.name) is \(c.type), field says \(f.type)")
    }
    self.fields = fields
    self.columns = columns
    self.rowCount = rows
  }

  public mutating func append(_ field: Field, _ column: AnyColumn) {
    precondition(column.count == rowCount, "column \(field.name) has \(column.count) rows, table has \(rowCount)")
    precondition(column.type == field.type, "column \(field.name) is \(column.type), field says \(field.type)")
    fields.append(field)
    columns.append(column)
  }

  public func column(named name: String) -> AnyColumn? {
    fields.firstIndex { $0.name == name }.map { columns[$0] }
  }

  public func slice(_ range: Range<Int>) -> Table {
    var out = Table(rowCount: range.count)
    for (f, c) in zip(fields, columns) { out.append(f, c.slice(range)) }
    return out
  }

  public func gather(_ indices: [Int]) -> Table {
    var out = Table(rowCount: indices.count)
    for (f, c) in zip(fields, columns) { out.append(f, c.gather(indices)) }
    return out
  }
}
