"""Safe by default: import roots, messages that quote no file content, formula-free CSV, zip caps,
bounded players, Markdown-free user text, and the sidebar's import flow (AppTest)."""

from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from core.errors import SchemaError, SongscapeError
from tests.conftest import app_env, demo_env, make_demo_home

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cr3t-token-6f1d2a"


# ----------------------------------------------------------------------------------------------
# Server defaults
# ----------------------------------------------------------------------------------------------

def test_server_listens_on_localhost_and_redacts_unexpected_errors(monkeypatch):
    from streamlit import config

    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("server.address") == "localhost"
        assert config.get_option("client.showErrorDetails") == "type"
        assert config.get_option("server.enableXsrfProtection") is True
    finally:
        config.get_config_options(force_reparse=True)


# ----------------------------------------------------------------------------------------------
# Import roots
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def roots(tmp_path, monkeypatch):
    """HOME and one extra import root, both under tmp_path; returns (home, music)."""
    home, music = tmp_path / "home", tmp_path / "music"
    home.mkdir()
    music.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SONGSCAPE_IMPORT_ROOTS", os.pathsep.join(["", str(music), ""]))
    return home, music


def test_allowed_roots_are_home_then_env_resolved(roots, tmp_path):
    from core.datasets.roots import allowed_import_roots

    home, music = roots
    assert allowed_import_roots() == (home.resolve(), music.resolve())


def test_paths_below_roots_pass_resolved(roots):
    from core.datasets.roots import check_import_path

    home, music = roots
    (music / "album").mkdir()
    assert check_import_path(music / "album") == (music / "album").resolve()
    assert check_import_path("~/not-yet") == (home / "not-yet").resolve()
    assert check_import_path(str(music)) == music.resolve()


@pytest.mark.parametrize("bad", ["/etc", "/etc/shadow", "/proc/self/environ", "/root", "/nonexistent/x", "",
                                 "relative/path"])
def test_paths_outside_roots_refused_in_one_line(roots, bad):
    from core.datasets.roots import ImportPathNotAllowed, check_import_path

    with pytest.raises(ImportPathNotAllowed) as ei:
        check_import_path(bad)
    msg = str(ei.value)
    assert "\n" not in msg and "SONGSCAPE_IMPORT_ROOTS=" in msg and isinstance(ei.value, SongscapeError)


def test_symlink_and_dotdot_escapes_refused(roots):
    from core.datasets.roots import ImportPathNotAllowed, check_import_path

    home, music = roots
    (home / "etc-link").symlink_to("/etc")
    for p in (home / "etc-link", home / "etc-link" / "passwd", f"{music}/../../../../etc", "~/../../etc"):
        with pytest.raises(ImportPathNotAllowed):
            check_import_path(p)


def test_refusal_does_not_reveal_whether_a_path_exists(roots):
    from core.datasets.roots import ImportPathNotAllowed, check_import_path

    msgs = []
    for p in ("/etc/passwd", "/etc/no-such-file-here"):
        with pytest.raises(ImportPathNotAllowed) as ei:
            check_import_path(p)
        msgs.append(str(ei.value).replace(p, "P"))
    assert msgs[0] == msgs[1]


def test_app_import_refuses_server_files_before_reading(roots, monkeypatch):
    from core.datasets.roots import ImportPathNotAllowed
    from core.ui import data

    monkeypatch.setenv("SONGSCAPE_TEST_SECRET", SECRET)
    for path, layout in (("/proc/self/environ", "tabular"), ("/etc/shadow", "tabular"), ("/etc", "auto")):
        with pytest.raises(ImportPathNotAllowed) as ei:
            data.import_folder(path, layout=layout, name=None, segment_seconds=None, min_seconds=1.0)
        assert SECRET not in str(ei.value) and "root:" not in str(ei.value)


def test_command_line_import_is_not_limited_to_roots(roots, tmp_path, make_wav, capsys):
    from core.cli import main

    make_wav("outside/a.wav", 330.0, seconds=2.0)  # tmp_path/outside: neither home nor an import root
    assert main(["import", str(tmp_path / "outside"), "--name", "outside", "--quiet", "--segment-seconds", "0"]) == 0
    assert "Imported dataset 'outside'" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------
# Error messages quote no file content
# ----------------------------------------------------------------------------------------------

def _import_error(path, layout="tabular") -> str:
    from core.ui import data

    with pytest.raises(SongscapeError) as ei:
        data.import_folder(str(path), layout=layout, name="x", segment_seconds=None, min_seconds=1.0)
    return str(ei.value)


def test_environ_like_file_is_not_echoed_even_when_allowed(monkeypatch):
    """Allowing every path (SONGSCAPE_IMPORT_ROOTS=/) still never shows /proc/self/environ's content."""
    monkeypatch.setenv("SONGSCAPE_TEST_SECRET", SECRET)
    monkeypatch.setenv("SONGSCAPE_IMPORT_ROOTS", "/")
    msg = _import_error("/proc/self/environ")
    assert SECRET not in msg and "SONGSCAPE_TEST_SECRET" not in msg and "PATH=" not in msg
    assert "environ" in msg and "\n" not in msg


@pytest.mark.parametrize("content", [
    b"root:$6$" + SECRET.encode() + b":19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",  # shadow-like
    b"\x89PNG\r\n\x1a\n" + SECRET.encode() + b"\x00\x01\xff" * 50,                                 # binary
    b"KEY=" + SECRET.encode() + b"\x00OTHER=1\x00",                                                # NUL-separated
])
def test_non_table_files_are_not_quoted(roots, content):
    home, _ = roots
    f = home / "data.csv"
    f.write_bytes(content)
    msg = _import_error(f)
    assert SECRET not in msg and "root:" not in msg
    assert "data.csv" in msg and "\n" not in msg


def test_non_table_file_in_a_folder_is_not_quoted(roots):
    home, _ = roots
    folder = home / "tables"
    folder.mkdir()
    (folder / "data.csv").write_bytes(b"KEY=" + SECRET.encode() + b"\x00OTHER=1\x00")
    msg = _import_error(folder)
    assert SECRET not in msg and "data.csv is not a table Songscape can read" in msg and "\n" not in msg


def test_apostrophes_in_words_are_not_taken_for_quotes():
    from core.ui.data import safe_message

    text = ("x.csv row 2 names only 'a.wav'; this row's metadata went to the first file. Write the relative path "
            "in the CSV's file column, as the folder's README says.")
    assert safe_message(SchemaError(text)) == text


def test_table_column_names_shown_truncated(roots):
    home, _ = roots
    cols = [f"column_{i:02d}_" + "x" * 60 for i in range(15)]
    f = home / "wide.csv"
    f.write_text(",".join(cols) + "\n" + ",".join("a" for _ in cols) + "\n", encoding="utf-8")
    msg = _import_error(f)
    assert "column_00_" in msg and "column_09_" in msg   # the first ten names …
    assert "column_10_" not in msg and "5 more" in msg    # … and how many were left out
    assert "x" * 40 not in msg                            # each shortened to at most 40 characters


def test_safe_message_keeps_plain_messages_and_maps_temp_paths(tmp_path):
    from core.ui.data import safe_message

    exc = SchemaError(f"{tmp_path}/upload.abc.zip: member 'a.wav' cannot be extracted (bad CRC).")
    assert safe_message(exc, replace={f"{tmp_path}/upload.abc.zip": "songs.zip"}) == \
        "songs.zip: member 'a.wav' cannot be extracted (bad CRC)."


# ----------------------------------------------------------------------------------------------
# CSV exports: no formulas
# ----------------------------------------------------------------------------------------------

def test_neutralize_formulas_text_only():
    from core.export import neutralize_formulas

    df = pd.DataFrame({"title": ["=cmd|' /C calc'!A0", "Rain", "-6.1", "\tTAB", "@SUM(A1)", "-1+1", None],
                       "artist": ["+SUM(1+1)", "Mira", "\rCR", "a-b", "=1", "3", "x"],
                       "loudness": [-6.1, -1.0, 0.0, 2.5, -0.5, 1e-3, -7.0]})
    out = neutralize_formulas(df)
    assert out["title"].tolist()[:6] == ["'=cmd|' /C calc'!A0", "Rain", "-6.1", "'\tTAB", "'@SUM(A1)", "'-1+1"]
    assert pd.isna(out["title"].iloc[6])
    assert out["artist"].tolist() == ["'+SUM(1+1)", "Mira", "'\rCR", "a-b", "'=1", "3", "x"]
    assert out["loudness"].dtype.kind == "f" and out["loudness"].tolist() == df["loudness"].tolist()
    assert df["title"].iloc[0].startswith("=")  # the input is not changed


def test_csv_text_and_to_csv_write_no_formula_cells():
    from core.export import EXPORTERS, csv_text

    df = pd.DataFrame({"=HYPERLINK(\"x\")": ["=2+3"], "n": [-4]})
    for text in (csv_text(df), EXPORTERS.get("csv")(df, [])):
        back = pd.read_csv(io.StringIO(text))
        assert list(back.columns) == ["'=HYPERLINK(\"x\")", "n"]
        assert back.iloc[0, 0] == "'=2+3" and back.iloc[0, 1] == -4
        cells = [c for line in text.splitlines() for c in line.split(",")]
        assert not any(c.startswith(("=", "+", "@")) for c in cells)


# ----------------------------------------------------------------------------------------------
# Zip caps
# ----------------------------------------------------------------------------------------------

def _zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in entries.items() if isinstance(entries, dict) else entries:
                zf.writestr(name, data)
    return buf.getvalue()


def _unpack(data: bytes, dest: Path, **kw):
    from core.datasets.zipsafe import unpack_zip

    return unpack_zip(io.BytesIO(data), dest, **kw)


def _assert_rejected(data: bytes, tmp_path: Path, *words: str, **kw) -> str:
    dest = tmp_path / "new" / "d"
    with pytest.raises(SchemaError) as ei:
        _unpack(data, dest, **kw)
    msg = str(ei.value)
    assert "\n" not in msg and len(msg) < 500, msg
    for w in words:
        assert w in msg, msg
    assert not (tmp_path / "new").exists()  # nothing left behind, not even the parent it created
    return msg


def test_zip_bomb_member_ratio_rejected_before_writing(tmp_path):
    data = _zip({"song.wav": b"\0" * (8 << 20)})
    assert len(data) < 100_000  # 8 MiB in a few kB
    _assert_rejected(data, tmp_path, "'song.wav'", "more than 100 times")


def test_zip_total_ratio_rejected(tmp_path):
    data = _zip({f"part{i}.bin": b"\0" * (900 << 10) for i in range(4)})  # each under the 1-MiB floor
    _assert_rejected(data, tmp_path, "more than 50 times")


def test_zip_per_file_cap(tmp_path):
    rng = np.random.default_rng(0)
    data = _zip({"ok.bin": rng.bytes(1000), "big.bin": rng.bytes(5000)}, compression=zipfile.ZIP_STORED)
    _assert_rejected(data, tmp_path, "'big.bin'", "4096 per file", max_file_bytes=4096)


def test_zip_duplicate_names_rejected(tmp_path):
    data = _zip([("a/x.wav", b"one"), ("a/./x.wav", b"two")])
    _assert_rejected(data, tmp_path, "appears twice")


def test_zip_file_and_folder_of_one_name_rejected(tmp_path):
    data = _zip({"songs": b"a file", "songs/a.wav": b"x"})
    _assert_rejected(data, tmp_path, "'songs' is both a file and a folder")


def test_zip_300_character_name_is_one_line(tmp_path):
    data = _zip({"a" * 296 + ".wav": b"x"})  # a 300-character name
    msg = _assert_rejected(data, tmp_path, "300 bytes", "at most 255")
    assert "Errno" not in msg and "a" * 100 not in msg


def test_zip_encrypted_member_rejected(tmp_path):
    data = bytearray(_zip({"secret.wav": b"x" * 100}, compression=zipfile.ZIP_STORED))
    data[6] |= 0x1                           # local header: general purpose flag bit 0, "encrypted"
    data[bytes(data).index(b"PK\x01\x02") + 8] |= 0x1  # central directory: the same bit
    _assert_rejected(bytes(data), tmp_path, "'secret.wav'", "cannot be extracted")


def test_nested_archives_listed_not_unpacked(tmp_path):
    from core.datasets.zipsafe import nested_archives

    inner = _zip({"deep.wav": b"x"})
    data = _zip({"top/a.txt": b"hello", "top/inner.zip": inner, "top/more.tar.gz": b"x"})
    notes: list[str] = []
    root = _unpack(data, tmp_path / "d", notes=notes)
    assert root == tmp_path / "d" / "top"
    assert sorted(p.name for p in root.iterdir()) == ["a.txt"]
    assert nested_archives(io.BytesIO(data)) == ["top/inner.zip", "top/more.tar.gz"]
    assert len(notes) == 2 and all("not unpacked" in n for n in notes)


def test_zip_guards_that_held_still_hold(tmp_path):
    for entries, word in (({"../evil.txt": b"x"}, "'..'"), ({"/abs.txt": b"x"}, "absolute")):
        _assert_rejected(_zip(entries), tmp_path, word)
    assert not (tmp_path.parent / "evil.txt").exists()


# ----------------------------------------------------------------------------------------------
# Players and previews: a bounded window, compressed
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_wav(tmp_path_factory) -> Path:
    """150 s of 8-kHz audio: a 440-Hz tone, with a 880-Hz tone from 100 s on."""
    sr = 8000
    t = np.arange(150 * sr) / sr
    y = np.where(t < 100, np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 880 * t)).astype(np.float32) * 0.3
    p = tmp_path_factory.mktemp("long") / "long.wav"
    sf.write(str(p), y, sr)
    return p


def test_preview_window_bounds():
    from core.preview import max_start, preview_window

    long = {"path": "x", "offset_s": 0.0, "duration_s": 7200.0}
    assert max_start(long) == 7140.0
    assert preview_window(long) == (0.0, 60.0)
    assert preview_window(long, start=1000) == (1000.0, 60.0)
    assert preview_window(long, start=1e9) == (7140.0, 60.0)
    seg = {"path": "x", "offset_s": 30.0, "duration_s": 20.0}
    assert max_start(seg) == 0.0 and preview_window(seg, start=5) == (30.0, 20.0)
    unknown = {"path": "x", "offset_s": 10.0, "duration_s": float("nan")}
    assert preview_window(unknown, start=3) == (13.0, 60.0)


def test_player_sends_at_most_60_s_as_ogg(long_wav):
    from core.audio import SAMPLE_RATE
    from core.preview import clip_audio, preview_window

    row = {"path": str(long_wav), "offset_s": 0.0, "duration_s": 150.0}
    offset, dur = preview_window(row, start=95.0)
    assert (offset, dur) == (90.0, 60.0)  # the last full minute
    data = clip_audio(str(long_wav), offset=offset, duration=dur)
    assert data[:4] == b"OggS"
    y, sr = sf.read(io.BytesIO(data))
    assert sr == SAMPLE_RATE and abs(len(y) / sr - 60.0) < 0.05
    assert len(data) < 0.25 * 60 * SAMPLE_RATE * 2  # far below 16-bit WAV of the same window
    spec = np.abs(np.fft.rfft(y[-SAMPLE_RATE:]))
    assert abs(np.argmax(spec) * sr / SAMPLE_RATE - 880) < 5  # the window really is the end of the track


def test_track_preview_follows_the_window(long_wav):
    from core.preview import track_preview

    pv = track_preview({"path": str(long_wav), "offset_s": 0.0, "duration_s": 150.0}, start=120.0)
    assert pv.start == 90.0 and abs(pv.seconds - 60.0) < 0.05
    assert pv.logmel_db.shape[0] == 128


def _player_script(path):
    import streamlit as st

    from core.ui.widgets import play_track

    st.session_state["start"] = play_track({"path": path, "title": "![x](http://e/x.png)", "artist": "$a$",
                                            "duration_s": 150.0, "offset_s": 0.0, "track_id": "t1"})


def test_player_widget_bounds_a_long_track(long_wav):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_player_script, args=(str(long_wav),), default_timeout=60).run()
    assert not at.exception
    (slider,) = at.slider
    assert (slider.min, slider.max, slider.value) == (0.0, 90.0, 0.0)
    (audio,) = at.get("audio")
    assert audio.proto.url.endswith(".oga")  # OGG, not WAV
    assert at.caption[0].value == r"\!\[x\]\(http\://e/x\.png\) — \$a\$"
    slider.set_value(90.0).run()
    assert at.session_state["start"] == 90.0


def test_player_cache_is_small():
    from core.ui import widgets

    src = Path(widgets.__file__).read_text(encoding="utf-8")
    block = src[src.index("def _clip_audio") - 80:src.index("def _clip_audio")]
    assert "max_entries=8" in block


# ----------------------------------------------------------------------------------------------
# User text shown as text
# ----------------------------------------------------------------------------------------------

def test_plain_escapes_markdown_math_and_emoji_codes():
    from core.ui.widgets import plain

    out = plain("![px](http://evil.example/p.png) $x^2$ :red[hi] *b* <i>\nআমার সোনার")
    assert re.search(r"(?<!\\)[$!\[\]()*<>:^_]", out) is None  # every special character escaped
    assert out.replace("\\", "") == "![px](http://evil.example/p.png) $x^2$ :red[hi] *b* <i> আমার সোনার"


def _progress_script():
    from core.ui.widgets import ProgressReporter, show_warnings

    rep = ProgressReporter("Importing", min_interval=0.0)
    rep(2, 2, {"file": "![a](http://e/a.png).wav"})
    show_warnings(["Purity for $mood$ equals the majority share"])


def test_progress_and_warnings_show_file_names_as_text():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_progress_script, default_timeout=30).run()
    assert not at.exception
    assert at.get("progress")[0].proto.text.endswith(r"\!\[a\]\(http\://e/a\.png\)\.wav")
    assert at.warning[0].value == r"Purity for \$mood\$ equals the majority share"


# ----------------------------------------------------------------------------------------------
# Uploads and the sidebar's import flow
# ----------------------------------------------------------------------------------------------

def _audio_zip(tmp_path: Path, titles=("Rain", "Nodi")) -> bytes:
    entries = {}
    for i, title in enumerate(titles):
        b = io.BytesIO()
        sf.write(b, (0.3 * np.sin(2 * np.pi * (220 + 110 * i) * np.arange(2 * 8000) / 8000)).astype(np.float32),
                 8000, format="WAV")
        entries[f"songs/t{i}.wav"] = b.getvalue()
    rows = "\n".join(f"t{i}.wav,{t},Bangla,folk,আমার সোনার বাংলা {i}" for i, t in enumerate(titles))
    entries["songs/metadata.csv"] = ("file,title,language,genre,lyrics\n" + rows + "\n").encode("utf-8")
    return _zip(entries)


def test_upload_imports_twice_without_leftovers(tmp_path):
    from core.config import workspace
    from core.ui import data

    up = io.BytesIO(_audio_zip(tmp_path))
    ds, notes = data.import_upload(up, file_name="my songs.zip", layout="auto", name=None, segment_seconds=None,
                                   min_seconds=1.0)
    assert ds.name == "my_songs" and len(ds.tracks) == 2 and notes == []
    assert set(ds.tracks["lyrics"]) == {"আমার সোনার বাংলা 0", "আমার সোনার বাংলা 1"}
    assert all(Path(p).exists() for p in ds.tracks["path"])  # the unpacked audio stays: the dataset uses it
    ds2, _ = data.import_upload(io.BytesIO(up.getvalue()), file_name="my songs.zip", layout="auto",
                                name="again", segment_seconds=None, min_seconds=1.0)
    assert len(ds2.tracks) == 2 and list(ds2.tracks["path"]) == list(ds.tracks["path"])  # unpacked once
    uploads = workspace() / "uploads"
    assert list((uploads / ".incoming").iterdir()) == []
    assert len([p for p in uploads.iterdir() if p.name != ".incoming"]) == 1


def test_upload_with_an_inner_archive_says_it_was_not_unpacked(tmp_path):
    from core.ui import data

    z = zipfile.ZipFile(io.BytesIO(_audio_zip(tmp_path)))
    entries = {i.filename: z.read(i) for i in z.infolist()}
    entries["songs/more.zip"] = _zip({"x.wav": b"x"})
    ds, notes = data.import_upload(io.BytesIO(_zip(entries)), file_name="nested.zip", layout="auto", name=None,
                                   segment_seconds=None, min_seconds=1.0)
    assert len(ds.tracks) == 2
    assert len(notes) == 1 and notes[0].startswith("songs/more.zip: ") and "not unpacked" in notes[0]


def test_failed_upload_leaves_nothing(tmp_path):
    from core.config import workspace
    from core.ui import data

    with pytest.raises(data.ImportFailed) as ei:
        data.import_upload(io.BytesIO(_zip({"notes/readme.txt": b"no audio here"})), file_name="empty.zip",
                           layout="auto", name=None, segment_seconds=None, min_seconds=1.0)
    assert "empty.zip" in str(ei.value) and "upload." not in str(ei.value)
    uploads = workspace() / "uploads"
    assert [p.name for p in uploads.iterdir()] == [".incoming"] and not any((uploads / ".incoming").iterdir())


def test_prune_uploads_keeps_what_datasets_use(tmp_path):
    from core.config import workspace
    from core.ui import data

    ds, _ = data.import_upload(io.BytesIO(_audio_zip(tmp_path)), file_name="keep.zip", layout="auto", name=None,
                               segment_seconds=None, min_seconds=1.0)
    uploads = workspace() / "uploads"
    stale = uploads / "0123456789abcdef"
    (stale / "files").mkdir(parents=True)
    (stale / "files" / "x.wav").write_bytes(b"x")
    old = uploads / ".incoming" / "upload.old.zip"
    old.write_bytes(b"PK")
    assert data.prune_uploads() == []  # young: maybe another import in progress
    removed = data.prune_uploads(now=__import__("time").time() + 2 * data.UPLOADS_GRACE_S)
    assert sorted(p.name for p in removed) == ["0123456789abcdef", "upload.old.zip"]
    assert all(Path(p).exists() for p in ds.tracks["path"])


SIDEBAR_SCRIPT = """
import streamlit as st
from core.ui.sidebar import sidebar
ds = sidebar()
st.text("shown: " + (ds.name if ds is not None else "none"))
"""


SIDEBAR_DEMO = demo_env(6, 2.0)


@pytest.fixture(scope="module")
def sidebar_home(tmp_path_factory):
    """One workspace with a 6-track demo for the sidebar tests (generated once)."""
    return make_demo_home(tmp_path_factory, "sidebar_home", n_tracks=6, seconds=2.0)


@pytest.fixture
def sidebar_app(sidebar_home, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    app_env(monkeypatch, sidebar_home, tmp_path / "models", SIDEBAR_DEMO)
    music = tmp_path / "music"
    monkeypatch.setenv("SONGSCAPE_IMPORT_ROOTS", str(music))
    return AppTest.from_string(SIDEBAR_SCRIPT, default_timeout=240), music


def test_sidebar_folder_import_selects_and_shows_the_new_dataset(sidebar_app, make_wav):
    at, music = sidebar_app
    make_wav("music/album/one.wav", 330.0, seconds=2.0)
    make_wav("music/album/two.wav", 440.0, seconds=2.0)
    (music / "album" / "bad.wav").write_bytes(b"RIFF not audio")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="dataset_name").value == "demo"
    at.text_input(key="import.path").input(str(music / "album"))
    at.run()
    at.button(key="import.go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="dataset_name").value == "album"
    assert at.text[-1].value == "shown: album"
    assert any("2 tracks, 1 skipped" in s.value for s in at.success)
    assert any("bad.wav" in str(df.value.to_dict()) for df in at.dataframe)  # the skipped list, with its reason


def test_sidebar_import_maps_a_column_to_a_role_and_scores_an_extra_label(sidebar_app, make_wav):
    """A CSV whose genre column is called genre_en and with a mood column: the sidebar's role and label
    fields make genre_en the genre and mood a scored label; a malformed role pair is one line."""
    from core.datasets import load_dataset
    from core.schema import label_columns

    at, music = sidebar_app
    make_wav("music/set/a.wav", 330.0, seconds=2.0)
    make_wav("music/set/b.wav", 440.0, seconds=2.0)
    (music / "set" / "metadata.csv").write_text("file,genre_en,mood\na.wav,rock,calm\nb.wav,pop,wild\n")
    at.run()
    at.text_input(key="import.path").input(str(music / "set"))
    at.text_input(key="import.map").input("genre")
    at.run()
    at.button(key="import.go").click()
    at.run()
    errs = [e.value for e in at.error]
    assert len(errs) == 1 and "Column roles" in errs[0] and at.selectbox(key="dataset_name").value == "demo"
    at.text_input(key="import.map").input("genre=genre_en")
    at.text_input(key="import.labels").input("mood")
    at.run()
    at.button(key="import.go").click()
    at.run()
    assert not at.exception and at.selectbox(key="dataset_name").value == "set"
    tracks = load_dataset("set").tracks.sort_values("title")
    assert tracks["genre"].tolist() == ["rock", "pop"]
    assert "mood" in label_columns(tracks, extra=load_dataset("set").info.get("label_columns", []))


def test_sidebar_refuses_outside_roots_in_one_line(sidebar_app):
    at, _ = sidebar_app
    at.run()
    at.text_input(key="import.path").input("/etc")
    at.run()
    at.button(key="import.go").click()
    at.run()
    assert not at.exception
    errs = [e.value for e in at.error]
    assert len(errs) == 1 and "SONGSCAPE" in errs[0] and "\n" not in errs[0]
    assert at.selectbox(key="dataset_name").value == "demo"


def test_map_hover_and_legend_show_user_text_literally():
    """Plotly reads <b>, <a href=…> in hover/legend text as markup; titles and labels are escaped."""
    import pandas as pd

    from core.viz import scatter_map

    hover = pd.DataFrame({"title": ["<a href='javascript:alert(1)'>x</a>", "Rock & Roll"], "genre": ["<b>pop</b>", "x"]})
    fig = scatter_map(np.zeros((2, 2)), color=["<b>pop</b>", "x"], hover=hover)
    custom = np.concatenate([np.asarray(t.customdata) for t in fig.data])
    text = " ".join(str(x) for t in fig.data for x in t.text)
    assert "<a " not in text and "<b>" not in text
    assert "&lt;a href='javascript:alert(1)'&gt;x&lt;/a&gt;" in text and "Rock &amp; Roll" in text
    assert {t.name for t in fig.data} == {"&lt;b&gt;pop&lt;/b&gt;", "x"}
    assert sorted(int(c) for c in custom) == [0, 1]  # each point's customdata is its row index
