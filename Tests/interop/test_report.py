"""`dataset report`: the page parses as XML, has one calendar cell per day, shows a damaged
database's missing dates and month, agrees with `validate --json`, and renders in headless
Chromium to a PNG that is not blank."""
import calendar
import datetime
import json
import pathlib
import shutil
import sqlite3
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest

from conftest import run

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
DAMAGED_MONTH = "2023-01"


def _damage(db: pathlib.Path) -> list[str]:
    """NULLs usage_rate for every row of DAMAGED_MONTH and deletes the PCF rows of three
    consecutive PCF dates in December and one in February; returns the deleted dates. The
    dates are picked from the data (the Nth PCF date of a month), not hard-coded."""
    con = sqlite3.connect(db)
    with con:
        con.execute(
            "UPDATE player_game_summary SET usage_rate = NULL WHERE substr(game_date, 1, 7) = ?", (DAMAGED_MONTH,)
        )
        pcf_dates = [r[0] for r in con.execute("SELECT DISTINCT game_date FROM player_composite_factors ORDER BY 1")]
        december = [d for d in pcf_dates if d.startswith("2022-12")]
        february = [d for d in pcf_dates if d.startswith("2023-02")]
        deleted = december[4:7] + february[9:10]
        assert len(deleted) == 4, f"sample has too few PCF dates: {december} {february}"
        con.executemany("DELETE FROM player_composite_factors WHERE game_date = ?", [(d,) for d in deleted])
    con.close()
    return deleted


@pytest.fixture(scope="module")
def damaged(sample_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged")
    db = folder / "damaged.sqlite"
    shutil.copy(sample_db, db)
    deleted = _damage(db)
    out = folder / "report.html"
    proc = run("report", "--db", db, "--season", "2022-23", "--out", out, check=False)
    return {"db": db, "html": out, "deleted": deleted, "stdout": proc.stdout, "folder": folder, "proc": proc}


def test_report_over_a_failed_gate_writes_the_page_then_exits_2(damaged):
    # gates.md: the same exit codes for every command, 2 when a gate failed (as validate).
    proc = damaged["proc"]
    validate = run("validate", "--db", damaged["db"], "--season", "2022-23", check=False)
    assert validate.returncode == 2
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.startswith(f"wrote {damaged['html']} (")
    assert "the page shows why" in proc.stderr
    assert damaged["html"].stat().st_size > 0


def _tree(path):
    # xml.etree refuses anything that is not well-formed: unclosed tags, stray `&`, bad nesting.
    return ET.parse(path).getroot()


def _day_cells(root):
    return [g for g in root.iter(SVG + "g") if (g.get("class") or "").split()[:1] == ["day"]]


def _season_days(db) -> int:
    """Calendar days in the months from opening night's month to the last game date's month."""
    con = sqlite3.connect(db)
    first, last = con.execute(
        "SELECT min(game_date), max(game_date) FROM player_game_summary WHERE season_year = 2022"
    ).fetchone()
    con.close()
    a, b = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    end = datetime.date(b.year, b.month, calendar.monthrange(b.year, b.month)[1])
    return (end - datetime.date(a.year, a.month, 1)).days + 1


def test_report_is_well_formed_and_self_contained(damaged):
    text = damaged["html"].read_text(encoding="utf-8")
    root = _tree(damaged["html"])
    assert root.tag == XHTML + "html"
    assert root.find(f"{XHTML}head/{XHTML}style") is not None
    # Nothing to fetch: no script, no external reference of any kind.
    assert not list(root.iter(XHTML + "script"))
    for el in root.iter():
        for attr in ("src", "href"):
            assert el.get(attr) is None, f"{el.tag} has {attr}={el.get(attr)}"
    assert "url(" not in text and "@import" not in text
    assert damaged["stdout"] == f"wrote {damaged['html']} ({len(text.encode())} bytes)\n"


def test_one_cell_per_calendar_day_and_missing_dates_marked(damaged):
    cells = _day_cells(_tree(damaged["html"]))
    dates = [g.get("data-date") for g in cells]
    assert len(dates) == _season_days(damaged["db"])
    assert len(set(dates)) == len(dates)
    first = datetime.date.fromisoformat(dates[0])
    assert [datetime.date.fromisoformat(d) for d in dates] == [first + datetime.timedelta(k) for k in range(len(dates))]
    status = {g.get("data-date"): g.get("class").split()[1] for g in cells}
    for d in damaged["deleted"]:
        assert status[d] == "missing", d
    # Every cell has hover text that starts with its date and names its status in words.
    for g in cells:
        title = g.find(SVG + "title").text
        assert title.startswith(g.get("data-date") + " ("), title


def _text(el):
    return "".join(el.itertext())


def test_figures_match_validate_json(damaged):
    proc = run("validate", "--db", damaged["db"], "--season", "2022-23", "--json", check=False)
    assert proc.returncode == 2, proc.stderr  # the NULLed month fails usage_rate_coverage
    report = json.loads(proc.stdout)
    gates = {g["name"]: g for g in report["gates"]}
    root = _tree(damaged["html"])

    # Calendar vs pcf_date_coverage: the same expected dates, the same missing ones.
    cells = _day_cells(root)
    missing = sorted(g.get("data-date") for g in cells if "missing" in g.get("class").split())
    expected = [g for g in cells if {"missing", "covered"} & set(g.get("class").split())]
    assert report["seasons"][0]["expected_dates"] == len(expected)
    date_gate = gates["pcf_date_coverage"]
    covered = len(expected) - len(missing)
    assert date_gate["figure"].startswith(f"PCF covers {covered} of {len(expected)} expected dates ("), date_gate["figure"]
    assert date_gate["evidence"] == missing
    assert date_gate["evidence_total"] == len(missing)

    # Month bars vs usage_rate_coverage: the season total and the damaged month's counts.
    months = {tr.get("data-month"): tr for tr in root.iter(XHTML + "tr") if tr.get("data-month")}
    active = sum(int(_text(tr.find(XHTML + "td")).replace(",", "")) for tr in months.values())
    usage = gates["usage_rate_coverage"]
    assert usage["status"] == "fail"
    assert f" of {active:,} active rows" in usage["figure"], usage["figure"]
    month_figure = _text(months[DAMAGED_MONTH].find(f"{XHTML}td[@class='metric below']/{XHTML}div"))
    filled, whole = month_figure.split("(")[1].split(")")[0].split(" of ")
    assert f"{DAMAGED_MONTH}: usage_rate on {filled} of {whole} active rows (0.0 %)" in usage["evidence"]

    # The page's gate table is the same report, row for row.
    rows = {tr.get("data-gate"): tr for tr in root.iter(XHTML + "tr") if tr.get("data-gate")}
    assert list(rows) == [g["name"] for g in report["gates"]]
    for name, gate in gates.items():
        assert rows[name].get("class") == f"gate {gate['status']}"
        tds = rows[name].findall(XHTML + "td")
        assert _text(tds[1]) == gate["figure"]
        assert _text(tds[2]) == gate["threshold"]
        shown = [_text(li) for li in tds[3].iter(XHTML + "li") if li.get("class") != "more"]
        assert shown == gate["evidence"]


def test_damaged_month_bar_is_below_the_line(damaged):
    root = _tree(damaged["html"])
    rows = {tr.get("data-month"): tr for tr in root.iter(XHTML + "tr") if tr.get("data-month")}
    assert DAMAGED_MONTH in rows
    for month, tr in rows.items():
        fill = next(r for r in tr.iter(SVG + "rect") if "usage" in (r.get("class") or "").split())
        line = next(l for l in tr.iter(SVG + "line") if l.get("class") == "threshold")
        share = float(fill.get("data-share"))
        below = float(fill.get("width")) < float(line.get("x1"))
        assert below == (share < float(line.get("data-threshold"))), month
        if month == DAMAGED_MONTH:
            assert share == 0.0 and "below" in fill.get("class").split()
            figure = _text(tr.find(f"{XHTML}td[@class='metric below']/{XHTML}div"))
            assert figure.startswith("0.0 % (0 of ") and figure.endswith(") below the line"), figure
        else:
            assert "ok" in fill.get("class").split(), month
    # The month is also named on its calendar and in the summary at the top.
    captions = [_text(c) for c in root.iter(XHTML + "figcaption")]
    assert "January 2023 · usage_rate 0.0 %" in captions
    summary = _text(root.find(f".//{XHTML}section[@class='summary']"))
    assert "usage_rate below 95 % in January 2023 (0.0 %)" in summary


def test_unwritable_out_is_exit_3_naming_the_file(sample_db, tmp_path):
    out = tmp_path / "no-such-folder" / "report.html"
    proc = run("report", "--db", sample_db, "--season", "2022-23", "--out", out, check=False)
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"error: cannot write {out}: No such file or directory (creating {out}.tmp-")
    # A folder given for the page: said so, and nothing written beside it.
    proc = run("report", "--db", sample_db, "--season", "2022-23", "--out", tmp_path, check=False)
    assert proc.returncode == 3
    assert proc.stderr == f"error: --out {tmp_path} is a folder: give the path of the page to write (e.g. {tmp_path}/report.html)\n"
    assert not list(tmp_path.parent.glob(f"{tmp_path.name}.tmp-*"))


def test_missing_snapshot_is_exit_3_listing_versions(sample_db, tmp_path):
    (tmp_path / "props_v1" / "v1").mkdir(parents=True)
    (tmp_path / "props_v1" / "v1" / "manifest.json").write_text("{}")
    proc = run(
        "report", "--db", sample_db, "--season", "2022-23", "--out", tmp_path / "r.html",
        "--snapshot", "props_v1/v2", "--snapshots", tmp_path, check=False,
    )
    assert proc.returncode == 3
    assert proc.stderr == f"error: {tmp_path}/props_v1/v2: no such snapshot version (versions: v1)\n"
    assert not (tmp_path / "r.html").exists()


# ---- browser check -------------------------------------------------------------------------

def _png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) with zlib alone."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    assert len(raw) == height * (stride + 1), f"IDAT holds {len(raw)} bytes, expected {height * (stride + 1)}"
    low7 = int.from_bytes(b"\x7f" * stride, "big")
    high = int.from_bytes(b"\x80" * stride, "big")
    rows, prev = [], bytes(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        cur = raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        if f == 0:
            line = cur
        elif f == 2:
            # Up: bytewise (cur + prev) mod 256 on whole rows at once: add the low 7 bits of
            # every byte, then fix the top bits with XOR so no carry crosses a byte.
            x, p = int.from_bytes(cur, "big"), int.from_bytes(prev, "big")
            line = (((x & low7) + (p & low7)) ^ ((x ^ p) & high)).to_bytes(stride, "big")
        else:
            out = bytearray(cur)
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                if f == 1:
                    out[i] = (out[i] + a) & 255
                elif f == 3:
                    out[i] = (out[i] + (a + prev[i]) // 2) & 255
                elif f == 4:
                    b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                    q = a + b - c
                    pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                    out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                else:
                    raise AssertionError(f"row {y}: PNG filter type {f} does not exist")
            line = bytes(out)
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def _screenshot(html, png, width, height):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium not found: `make deps` installs it (Debian package `chromium`)")
    proc = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--screenshot={png}", f"--window-size={width},{height}", html.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert png.exists(), proc.stderr


def test_chromium_renders_the_report(damaged):
    png = damaged["folder"] / "report.png"
    _screenshot(damaged["html"], png, 1200, 2000)
    width, height, bpp, rows = _png_pixels(png)
    assert (width, height) == (1200, 2000)
    colours, ink, red = set(), 0, 0
    for row in rows[::4]:
        for x in range(0, width * bpp, bpp * 4):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add((r, g, b))
            if (r, g, b) != (255, 255, 255):
                ink += 1
            # The missing-day fill (#c8381e), anti-aliasing aside.
            if abs(r - 0xC8) < 12 and abs(g - 0x38) < 12 and abs(b - 0x1E) < 12:
                red += 1
    sampled = (height // 4) * (width // 4)
    assert len(colours) > 20, "the page rendered as a flat image"
    assert ink > sampled * 0.05, f"only {ink} of {sampled} sampled pixels are not white"
    assert red > 0, "no missing-day red visible in the first 2000 pixels"
