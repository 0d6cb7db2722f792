"""Arrow IPC interop: files our writer produces are read by pyarrow and polars value for value,
and files pyarrow and polars produce go through our reader and writer unchanged
(snapshot.md, "Data files")."""
import datetime
import math

import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pytest

from conftest import run

# The table `dataset arrow-sample` writes (ArrowSampleCommand.sampleTable), spelled out
# independently so a change on either side shows up here.
D = datetime.date
EXPECTED = {
    "i32": [None, 1, -1, 2**31 - 1, -(2**31), 0, None, 7, 8, None],
    "i64": [0, 1, -1, 2**63 - 1, -(2**63), 42, 1 << 40, -(1 << 40), 9, 10],
    "f64": [1.5, None, -0.0, math.inf, -math.inf, 1e-300, 3.25, None, 1e300, 0.1],
    "flag": [True, False, None, True, True, False, None, False, True, True],
    "text": ["a", "", None, "héllo", "日本語", "🏀", "", None, "x y", "last"],
    "day": [D(2023, 10, 24), None, D(1970, 1, 1), D(1969, 12, 31), D(2000, 2, 29), D(2024, 6, 17), None,
            D(1900, 1, 1), D(2099, 12, 31), D(2023, 4, 9)],
    "all_null": [None] * 10,
}
EXPECTED_TYPES = {
    "i32": pa.int32(), "i64": pa.int64(), "f64": pa.float64(), "flag": pa.bool_(), "text": pa.string(),
    "day": pa.date32(), "all_null": pa.float64(),
}


def same_values(a, b):
    """Element-wise equality that tells -0.0 from 0.0 and treats NaN as equal to NaN."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, float) and isinstance(y, float):
            if math.isnan(x) and math.isnan(y):
                continue
            if x != y or math.copysign(1, x) != math.copysign(1, y):
                return False
        elif x != y or type(x) is not type(y):
            return False
    return True


@pytest.mark.parametrize("compression", ["lz4-frame", "none"])
def test_our_file_reads_in_pyarrow(tmp_path, compression):
    path = tmp_path / "sample.arrow"
    run("arrow-sample", "--out", path, "--compression", compression)
    with ipc.open_file(path) as reader:
        assert reader.num_record_batches == 3  # 10 rows in batches of 4
        table = reader.read_all()
        meta = reader.get_batch(0)
    assert table.schema.names == list(EXPECTED)
    for name, typ in EXPECTED_TYPES.items():
        assert table.schema.field(name).type == typ, name
    assert table.schema.field("i64").nullable is False
    assert table.schema.field("i32").nullable is True
    assert table.schema.field("i32").metadata == {b"meaning": b"int32 with nulls"}
    for name, values in EXPECTED.items():
        assert same_values(table.column(name).to_pylist(), values), name
    assert table.column("all_null").null_count == 10
    assert meta.num_rows == 4
    assert feather.read_table(path).equals(table)


def test_our_compression_is_reported_as_lz4_frame(tmp_path):
    path = tmp_path / "sample.arrow"
    run("arrow-sample", "--out", path)
    with pa.OSFile(str(path), "rb") as f:
        data = f.read()
    # Read the first record batch message and ask pyarrow what compression it declares.
    reader = ipc.open_file(pa.BufferReader(data))
    assert reader.num_record_batches == 3
    # pyarrow decodes the body with the codec the metadata names; an LZ4 frame (magic
    # 04 22 4d 18) after each 8-byte length shows which codec that was.
    stream = pa.BufferReader(data[8:])
    msg_reader = ipc.MessageReader.open_stream(stream)
    schema_msg = msg_reader.read_next_message()
    assert schema_msg.type == "schema"
    batch_msg = msg_reader.read_next_message()
    assert batch_msg.type == "record batch"
    body = batch_msg.body.to_pybytes()
    assert body[8:12] == b"\x04\x22\x4d\x18"
    rb = ipc.read_record_batch(batch_msg, reader.schema)
    assert rb.num_rows == 4
    # Uncompressed sample has no LZ4 frames at all.
    plain = tmp_path / "plain.arrow"
    run("arrow-sample", "--out", plain, "--compression", "none")
    assert b"\x04\x22\x4d\x18" not in plain.read_bytes()


def test_our_file_reads_in_polars(tmp_path):
    path = tmp_path / "sample.arrow"
    run("arrow-sample", "--out", path)
    df = pl.read_ipc(path, memory_map=False)
    assert df.columns == list(EXPECTED)
    assert df.schema["i32"] == pl.Int32 and df.schema["day"] == pl.Date and df.schema["flag"] == pl.Boolean
    for name, values in EXPECTED.items():
        assert same_values(df[name].to_list(), values), name


def pyarrow_table(rows=1000):
    """Every supported type, NULLs at batch boundaries, empty strings and NaN."""
    def pick(i, v):
        return None if i % 7 == 0 or i in (1, 63, 64, 65, rows - 1) else v
    return pa.table({
        "i32": pa.array([pick(i, i * 3 - 500) for i in range(rows)], pa.int32()),
        "i64": pa.array([pick(i, (i - 500) * 10**12) for i in range(rows)], pa.int64()),
        "f64": pa.array([pick(i, float("nan") if i % 11 == 0 else i / 3) for i in range(rows)], pa.float64()),
        "flag": pa.array([pick(i, i % 3 == 0) for i in range(rows)], pa.bool_()),
        "text": pa.array([pick(i, "" if i % 5 == 0 else f"player {i} é") for i in range(rows)], pa.string()),
        "day": pa.array([pick(i, D(2023, 1, 1) + datetime.timedelta(days=i)) for i in range(rows)], pa.date32()),
        "dense": pa.array([float(i) for i in range(rows)], pa.float64()),
    })


def roundtrip(tmp_path, src, *extra):
    out = tmp_path / "back.arrow"
    proc = run("arrow-roundtrip", "--in", src, "--out", out, *extra)
    return out, proc.stdout


def assert_tables_equal(a, b):
    assert a.schema.names == b.schema.names
    for name in a.schema.names:
        assert a.schema.field(name).type == b.schema.field(name).type, name
        assert same_values(a.column(name).to_pylist(), b.column(name).to_pylist()), name


@pytest.mark.parametrize("compression", ["lz4", "uncompressed"])
def test_pyarrow_feather_file_roundtrips(tmp_path, compression):
    src = tmp_path / "pa.arrow"
    original = pyarrow_table()
    feather.write_feather(original, src, compression=compression, chunksize=300)
    out, stdout = roundtrip(tmp_path, src)
    assert f"read {src}: 1000 rows in 4 record batches, 7 columns" in stdout
    assert "  text: utf8 (" in stdout
    assert_tables_equal(original, feather.read_table(out))


def test_pyarrow_multi_batch_ipc_file_roundtrips(tmp_path):
    src = tmp_path / "multi.arrow"
    original = pyarrow_table(200)
    with ipc.new_file(src, original.schema, options=ipc.IpcWriteOptions(compression="lz4")) as w:
        for batch in original.to_batches(max_chunksize=64):
            w.write_batch(batch)
        w.write_batch(original.slice(0, 0).to_batches()[0] if original.slice(0, 0).num_rows else
                      pa.record_batch([pa.array([], f.type) for f in original.schema], schema=original.schema))
    out, stdout = roundtrip(tmp_path, src, "--batch-rows", "50")
    assert f"read {src}: 200 rows in 5 record batches, 7 columns" in stdout
    with ipc.open_file(out) as r:
        assert r.num_record_batches == 4
        assert_tables_equal(original, r.read_all())


def test_pyarrow_sliced_arrays_roundtrip(tmp_path):
    """Slices make pyarrow write bitmaps and offsets that do not start at bit or byte 0."""
    src = tmp_path / "sliced.arrow"
    original = pyarrow_table(300).slice(37, 150)
    feather.write_feather(original, src, compression="lz4")
    out, _ = roundtrip(tmp_path, src)
    assert_tables_equal(original, feather.read_table(out))


def polars_frame():
    t = pyarrow_table(500).drop(["f64"])  # polars turns NaN-vs-null distinctions into its own rules
    return pl.from_arrow(t)


def test_polars_oldest_compat_file_roundtrips(tmp_path):
    src = tmp_path / "pl.arrow"
    df = polars_frame()
    df.write_ipc(src, compression="lz4", compat_level=pl.CompatLevel.oldest())
    with ipc.open_file(src) as r:
        assert r.schema.field("text").type == pa.large_string()  # polars' string type
    out, stdout = roundtrip(tmp_path, src)
    assert "  text: utf8 (" in stdout
    back = feather.read_table(out)
    assert back.schema.field("text").type == pa.string()
    expected = df.to_arrow().cast(back.schema)
    assert_tables_equal(expected, back)
    assert pl.read_ipc(out, memory_map=False).equals(df)


def test_polars_default_view_types_are_refused_by_name(tmp_path):
    src = tmp_path / "pl_view.arrow"
    polars_frame().write_ipc(src, compression="lz4")
    proc = run("arrow-roundtrip", "--in", src, "--out", tmp_path / "x.arrow", check=False)
    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: {src}: unsupported Arrow feature: type Utf8View in column \"text\"; "
        "write with compat_level=oldest (polars) or cast to large_utf8/utf8 (pyarrow)\n")


def test_truncated_file_is_unusable_input_not_a_crash(tmp_path):
    src = tmp_path / "t.arrow"
    feather.write_feather(pyarrow_table(50), src, compression="lz4")
    data = src.read_bytes()
    cut = tmp_path / "cut.arrow"
    cut.write_bytes(data[: len(data) // 2])
    proc = run("arrow-roundtrip", "--in", cut, "--out", tmp_path / "x.arrow", check=False)
    assert proc.returncode == 3
    assert proc.stderr.startswith(f"error: {cut}: not an Arrow IPC file: the last 6 bytes are ")
