"""Importers on small generated fixtures: every layout, auto-detection, segments, bad input, zips, CLI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.audio import SAMPLE_RATE, load_audio
from core.datasets import load_dataset
from core.datasets.folder import check_audio
from core.datasets.importers import IMPORTERS, default_name, detect_layout, import_dataset, unpack_zip
from core.datasets.segment import segment_spans
from core.errors import AudioDecodeError, ParameterError, SchemaError
from core.schema import stable_id

BANGLA = "আমার সোনার বাংলা, আমি তোমায় ভালোবাসি"


def reasons(result) -> dict[str, str]:
    return {s.item: s.reason for s in result.skipped}


def by_title(tracks: pd.DataFrame) -> dict[str, dict]:
    return {r["title"]: r for r in tracks.to_dict(orient="records")}


# ------------------------------------------------------------------------------------------------
# folder
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def folder_ds(tmp_path, make_wav):
    make_wav("songs/a.wav", 440, seconds=2)
    make_wav("songs/sub/b.flac", 660, seconds=3)
    make_wav("songs/c.ogg", 550, seconds=1.5)
    (tmp_path / "songs" / "metadata.csv").write_text(
        "File Name,Lang,track_name,Artist,GENRE,Lyrics,bpm,track_id\n"
        "a.wav,English,Alpha,Ann,rock,hello world,120,x1\n"
        f'sub/b.flac,Bangla,Beta,Bo,folk,"{BANGLA}",90.5,x2\n', encoding="utf-8")
    return tmp_path / "songs"


def test_folder_with_aliased_columns_and_bengali_lyrics(folder_ds):
    calls = []
    res = IMPORTERS.get("folder")(folder_ds, progress=lambda step, total, logs: calls.append((step, total)))
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    t = res.tracks
    assert res.layout == "folder" and res.skipped == []
    assert len(t) == 3
    rows = by_title(t)
    assert set(rows) == {"Alpha", "Beta", "c"}  # no CSV row for c.ogg: title falls back to the file stem
    assert rows["Alpha"]["language"] == "English" and rows["Alpha"]["genre"] == "rock"
    assert rows["Alpha"]["artist"] == "Ann" and rows["Alpha"]["lyrics"] == "hello world"
    assert rows["Beta"]["language"] == "Bangla" and rows["Beta"]["lyrics"] == BANGLA
    assert rows["c"]["language"] == "" and rows["c"]["genre"] == ""
    assert rows["Alpha"]["duration_s"] == pytest.approx(2.0, abs=1e-3)
    assert rows["Beta"]["duration_s"] == pytest.approx(3.0, abs=1e-3)
    assert rows["c"]["duration_s"] == pytest.approx(1.5, abs=1e-2)
    # extra columns kept (numeric ones as numbers); the user's track_id cannot shadow ours
    assert rows["Alpha"]["bpm"] == 120 and rows["Beta"]["bpm"] == pytest.approx(90.5)
    assert rows["Alpha"]["csv_track_id"] == "x1"
    assert rows["Alpha"]["track_id"] == stable_id("folder", "a.wav")
    assert Path(rows["Beta"]["path"]) == (folder_ds / "sub" / "b.flac").resolve()
    assert set(t["segment"]) == {0} and set(t["parent_id"]) == {""} and set(t["offset_s"]) == {0.0}


def test_import_dataset_round_trip_keeps_unicode_and_extras(folder_ds):
    ds = import_dataset(folder_ds)
    assert ds.name == "songs" and ds.info["layout"] == "folder" and ds.info["requested_layout"] == "auto"
    loaded = load_dataset("songs")
    assert len(loaded.tracks) == 3
    rows = by_title(loaded.tracks)
    assert rows["Beta"]["lyrics"] == BANGLA
    assert float(rows["Beta"]["bpm"]) == pytest.approx(90.5)  # load_dataset reads a column with blanks as text
    assert loaded.fingerprint == ds.fingerprint
    assert import_dataset(folder_ds / "metadata.csv", replace=True).name == "songs"  # the CSV stands for its folder
    y = load_audio(rows["Alpha"]["path"])
    assert len(y) == 2 * SAMPLE_RATE


def test_folder_csv_can_be_semicolon_separated_with_bom_and_stems(tmp_path, make_wav):
    make_wav("d/one.wav")
    make_wav("d/two.wav")
    (tmp_path / "d" / "meta.csv").write_bytes("\ufefffilename;language\none;English\ntwo;Bangla\n".encode("utf-8"))
    res = IMPORTERS.get("folder")(tmp_path / "d")
    assert dict(zip(res.tracks["title"], res.tracks["language"])) == {"one": "English", "two": "Bangla"}


# ------------------------------------------------------------------------------------------------
# gtzan, jamendo, tabular
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def gtzan_ds(tmp_path, make_wav):
    make_wav("genres/blues/blues.00000.wav", 220)
    make_wav("genres/blues/blues.00001.wav", 230)
    make_wav("genres/rock/rock.00000.wav", 440)
    return tmp_path / "genres"


def test_gtzan_genre_from_folder(gtzan_ds):
    res = IMPORTERS.get("gtzan")(gtzan_ds)
    assert res.skipped == []
    assert dict(zip(res.tracks["title"], res.tracks["genre"])) == {
        "blues.00000": "blues", "blues.00001": "blues", "rock.00000": "rock"}


def test_gtzan_flags_csv_genre_that_disagrees_with_folder(gtzan_ds, make_wav):
    make_wav("genres/loose.wav")
    (gtzan_ds / "features_30_sec.csv").write_text(
        "filename,length,tempo_mean,label\n"
        "blues.00000.wav,661794,120.5,blues\n"
        "rock.00000.wav,661794,99.0,blues\n", encoding="utf-8")
    res = IMPORTERS.get("gtzan")(gtzan_ds)
    r = reasons(res)
    assert "mislabelled" in r["rock/rock.00000.wav"] and "'rock'" in r["rock/rock.00000.wav"]
    assert "not inside a genre folder" in r["loose.wav"]
    assert sorted(res.tracks["title"]) == ["blues.00000", "blues.00001"]
    rows = by_title(res.tracks)
    assert rows["blues.00000"]["tempo_mean"] == pytest.approx(120.5)
    assert np.isnan(rows["blues.00001"]["tempo_mean"])


@pytest.fixture
def jamendo_ds(tmp_path, make_wav):
    root = tmp_path / "jamendolyrics"
    make_wav("jamendolyrics/mp3/Avercage_-_Embers.mp3", 440, seconds=2)
    make_wav("jamendolyrics/mp3/Songwriterz_-_Back_In_Time.mp3", 330, seconds=2)
    (root / "lyrics").mkdir()
    (root / "lyrics" / "Avercage_-_Embers.txt").write_text("embers glow\nin the night\n", encoding="utf-8")
    (root / "lyrics" / "Songwriterz_-_Back_In_Time.txt").write_text("zurück in der Zeit\n", encoding="utf-8")
    (root / "JamendoLyrics.csv").write_text(
        "URL,Filepath,Artist,Title,Genre,LicenseType,Language\n"
        "u1,Avercage_-_Embers.mp3,Avercage,Embers,Pop,BY-ND,English\n"
        "u2,Songwriterz_-_Back_In_Time.mp3,Songwriterz,Back In Time,Rock,BY,German\n", encoding="utf-8")
    return root


def test_jamendo_csv_audio_under_mp3_and_lyrics_files(jamendo_ds):
    res = IMPORTERS.get("jamendo")(jamendo_ds)
    assert res.skipped == []
    rows = by_title(res.tracks)
    assert set(rows) == {"Embers", "Back In Time"}
    assert rows["Embers"]["lyrics"] == "embers glow\nin the night"
    assert rows["Back In Time"]["lyrics"] == "zurück in der Zeit"
    assert rows["Embers"]["language"] == "English" and rows["Back In Time"]["genre"] == "Rock"
    assert rows["Embers"]["artist"] == "Avercage" and rows["Embers"]["URL"] == "u1"
    assert rows["Embers"]["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert Path(rows["Embers"]["path"]).parent.name == "mp3"


SPOTIFY_HEADER = ("track_id,track_name,track_artist,lyrics,track_popularity,playlist_genre,danceability,energy,key,"
                  "loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,duration_ms,language")


def spotify_row(tid, name, *, tempo="120.0", energy="0.8", lang="en", genre="pop", lyrics="la la la"):
    return (f'{tid},{name},Someone,"{lyrics}",50,{genre},0.7,{energy},5,-6.5,1,0.05,0.1,0.0,0.12,0.6,{tempo},'
            f"200000,{lang}")


@pytest.fixture
def spotify_csv(tmp_path):
    lines = [SPOTIFY_HEADER,
             spotify_row("s1", "First"),
             spotify_row("s2", "Second", lang="bn", genre="rock", lyrics=BANGLA),
             spotify_row("s3", "Bad tempo", tempo="abc"),
             spotify_row("s4", "No energy", energy=""),
             spotify_row("s1", "First again"),
             spotify_row("s5", "Fifth", genre="edm")]
    p = tmp_path / "spotify_songs.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_tabular_spotify_csv(spotify_csv):
    res = IMPORTERS.get("tabular")(spotify_csv)
    t = res.tracks
    assert list(t["title"]) == ["First", "Second", "Fifth"]
    assert set(t["path"]) == {""}
    assert list(t["genre"]) == ["pop", "rock", "edm"] and list(t["language"]) == ["en", "bn", "en"]
    assert t.loc[1, "lyrics"] == BANGLA
    for col in ("danceability", "energy", "tempo", "loudness", "duration_ms", "track_popularity"):
        assert pd.api.types.is_numeric_dtype(t[col]), col
    assert t["tempo"].tolist() == [120.0, 120.0, 120.0]
    assert t["duration_s"].tolist() == [200.0, 200.0, 200.0]
    assert list(t["csv_track_id"]) == ["s1", "s2", "s5"]
    r = reasons(res)
    assert "'tempo'" in r["spotify_songs.csv row 4"] and "'abc'" in r["spotify_songs.csv row 4"]
    assert "'energy' is empty" in r["spotify_songs.csv row 5"]
    assert "duplicate" in r["spotify_songs.csv row 6"] and "row 2" in r["spotify_songs.csv row 6"]
    ds = import_dataset(spotify_csv)
    assert ds.name == "spotify_songs" and not ds.has_audio and len(load_dataset("spotify_songs").tracks) == 3


# ------------------------------------------------------------------------------------------------
# auto-detection
# ------------------------------------------------------------------------------------------------

def test_detect_layout_each(folder_ds, gtzan_ds, jamendo_ds, spotify_csv, tmp_path, make_wav):
    assert detect_layout(folder_ds) == "folder"
    assert detect_layout(folder_ds / "metadata.csv") == "folder"
    assert detect_layout(gtzan_ds) == "gtzan"
    assert detect_layout(jamendo_ds) == "jamendo"
    assert detect_layout(jamendo_ds / "JamendoLyrics.csv") == "jamendo"
    assert detect_layout(spotify_csv) == "tabular"
    only_csv = tmp_path / "only_csv"
    only_csv.mkdir()
    (only_csv / "feats.csv").write_bytes(spotify_csv.read_bytes())
    assert detect_layout(only_csv) == "tabular"
    make_wav("flat/x.wav")
    make_wav("flat/y.wav")
    assert detect_layout(tmp_path / "flat") == "folder"
    make_wav("one_sub/mp3/x.wav")  # a single subfolder is not a genre split
    assert detect_layout(tmp_path / "one_sub") == "folder"
    (tmp_path / "nothing").mkdir()
    with pytest.raises(SchemaError, match="No audio files"):
        detect_layout(tmp_path / "nothing")
    (tmp_path / "plain.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="--layout"):
        detect_layout(tmp_path / "plain.csv")
    # the auto importer dispatches to the detected layout
    assert IMPORTERS.get("auto")(gtzan_ds).layout == "gtzan"
    assert IMPORTERS.get("auto")(jamendo_ds).tracks["lyrics"].str.len().min() > 0


# ------------------------------------------------------------------------------------------------
# segments
# ------------------------------------------------------------------------------------------------

def test_segment_spans_values():
    assert segment_spans(7.0, segment_seconds=3.0, min_seconds=1.5) == [(0.0, 3.0), (3.0, 3.0)]
    assert segment_spans(7.0, segment_seconds=3.0, min_seconds=1.0) == [(0.0, 3.0), (3.0, 3.0), (6.0, 1.0)]
    assert segment_spans(2.0, segment_seconds=30.0, min_seconds=1.0) == [(0.0, 2.0)]
    assert segment_spans(6.0, segment_seconds=3.0, min_seconds=1.0) == [(0.0, 3.0), (3.0, 3.0)]
    assert segment_spans(0.5, segment_seconds=3.0, min_seconds=1.0) == []


def test_segmentation_of_a_long_track(tmp_path, make_wav):
    make_wav("seg/long.wav", 440, seconds=7)
    (tmp_path / "seg" / "metadata.csv").write_text("file,language,genre,lyrics\nlong.wav,Bangla,folk,গান\n",
                                                   encoding="utf-8")
    res = IMPORTERS.get("folder")(tmp_path / "seg", segment_seconds=3.0, min_seconds=1.5)
    t = res.tracks
    assert len(t) == 2
    assert t["offset_s"].tolist() == [0.0, 3.0] and t["duration_s"].tolist() == [3.0, 3.0]
    assert t["segment"].tolist() == [0, 1]
    assert set(t["parent_id"]) == {stable_id("folder", "long.wav")}
    assert t["track_id"].nunique() == 2 and stable_id("folder", "long.wav") not in set(t["track_id"])
    assert set(t["language"]) == {"Bangla"} and set(t["genre"]) == {"folk"} and set(t["lyrics"]) == {"গান"}
    y = load_audio(t.loc[1, "path"], offset=t.loc[1, "offset_s"], duration=t.loc[1, "duration_s"])
    assert len(y) == 3 * SAMPLE_RATE
    with_tail = IMPORTERS.get("folder")(tmp_path / "seg", segment_seconds=3.0, min_seconds=1.0).tracks
    assert with_tail["offset_s"].tolist() == [0.0, 3.0, 6.0]
    assert with_tail["duration_s"].tolist() == pytest.approx([3.0, 3.0, 1.0])
    ds = import_dataset(tmp_path / "seg", name="segs", segment_seconds=3.0, min_seconds=1.5)
    back = load_dataset("segs").tracks
    assert back["offset_s"].tolist() == [0.0, 3.0] and back["parent_id"].tolist() == list(ds.tracks["parent_id"])


def test_bad_parameters_raise():
    with pytest.raises(ParameterError, match="segment_seconds"):
        import_dataset(".", segment_seconds=-1)
    with pytest.raises(ParameterError, match="segment_seconds"):
        import_dataset(".", segment_seconds=0.5, min_seconds=1.0)
    with pytest.raises(ParameterError, match="layout"):
        import_dataset(".", layout="nope")


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def messy(tmp_path, make_wav):
    root = tmp_path / "messy"
    good = make_wav("messy/good.wav", seconds=2)
    make_wav("messy/other.wav", seconds=2)
    make_wav("messy/short.wav", seconds=0.5)
    (root / "empty.wav").write_bytes(b"")
    (root / "notaudio.mp3").write_bytes(b"this is a text file pretending to be audio\n" * 20)
    data = good.read_bytes()
    (root / "truncated.wav").write_bytes(data[: len(data) // 2])
    flac = make_wav("messy/whole.flac", seconds=2)
    (root / "cut.flac").write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    flac.unlink()
    make_wav("messy/x/same.wav", 300)
    make_wav("messy/y/same.wav", 500)
    (root / "metadata.csv").write_text(
        "filename,language\n"
        "good.wav,English\n"
        "missing.wav,English\n"
        "good.wav,Bangla\n"
        "same.wav,Bangla\n", encoding="utf-8")
    return root


def test_every_bad_input_is_skipped_with_a_reason(messy):
    res = IMPORTERS.get("folder")(messy)
    r = reasons(res)
    assert sorted(res.tracks["title"]) == ["good", "other", "same", "same"]  # both same.wav: the CSV is ambiguous
    assert by_title(res.tracks)["good"]["language"] == "English"  # first of the duplicate rows kept
    same = res.tracks[res.tracks["title"] == "same"]
    assert sorted(Path(p).parent.name for p in same["path"]) == ["x", "y"] and set(same["language"]) == {""}
    assert "empty (0 bytes)" in r["empty.wav"]
    assert "not readable as audio" in r["notaudio.mp3"]
    assert "truncated" in r["truncated.wav"] and "2.00 s" in r["truncated.wav"] and "1.00 s" in r["truncated.wav"]
    assert "truncated" in r["cut.flac"]
    assert "too short" in r["short.wav"] and "0.50 s" in r["short.wav"]
    assert "not found" in r["metadata.csv row 3"]
    assert "duplicate" in r["metadata.csv row 4"] and "row 2" in r["metadata.csv row 4"]
    row5 = r["metadata.csv row 5"]
    assert "ambiguous" in row5 and "'x/same.wav'" in row5 and "'y/same.wav'" in row5 and "relative path" in row5
    assert len(res.skipped) == 8


def test_truncated_wav_is_caught_even_though_soundfile_opens_it(make_wav):
    import soundfile as sf

    p = make_wav("t/full.wav", seconds=2)
    cut = p.with_name("cut.wav")
    cut.write_bytes(p.read_bytes()[:30000])
    assert sf.info(str(cut)).frames > 0  # libsndfile accepts it ...
    with pytest.raises(AudioDecodeError, match="truncated"):  # ... our check does not
        check_audio(cut)
    assert check_audio(p) == pytest.approx(2.0)


def test_non_utf8_csv_is_reported_and_audio_still_imported(tmp_path, make_wav):
    make_wav("latin/cafe.wav")
    make_wav("latin/bar.wav")
    raw = "file,genre,title\r\ncafe.wav,chanson,Caf\u00e9 au lait\r\n".encode("cp1252")
    (tmp_path / "latin" / "metadata.csv").write_bytes(raw)
    res = IMPORTERS.get("folder")(tmp_path / "latin")
    assert sorted(res.tracks["title"]) == ["bar", "cafe"] and set(res.tracks["genre"]) == {""}
    reason = reasons(res)["metadata.csv"]
    offset = raw.index(b"\xe9")
    assert offset == 38 and f"byte offset {offset}" in reason and "0xe9" in reason
    assert "UTF-8" in reason and "without" in reason


def test_several_csvs_prefer_metadata_csv(tmp_path, make_wav):
    make_wav("two/a.wav")
    (tmp_path / "two" / "aaa.csv").write_text("file,genre\na.wav,wrong\n", encoding="utf-8")
    (tmp_path / "two" / "metadata.csv").write_text("file,genre\na.wav,right\n", encoding="utf-8")
    res = IMPORTERS.get("folder")(tmp_path / "two")
    assert res.tracks["genre"].tolist() == ["right"]
    assert "metadata.csv" in reasons(res)["aaa.csv"]


def test_failed_reimport_leaves_previous_dataset_intact(folder_ds, tmp_path):
    first = import_dataset(folder_ds, name="mine")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.wav").write_bytes(b"")
    (broken / "b.wav").write_bytes(b"garbage" * 100)
    with pytest.raises(SchemaError) as err:
        import_dataset(broken, name="mine", replace=True)
    msg = str(err.value)
    assert "a.wav" in msg and "empty" in msg and "b.wav" in msg and "'mine' was not changed" in msg
    again = load_dataset("mine")
    assert len(again.tracks) == 3 and again.fingerprint == first.fingerprint
    assert again.info["source_path"] == str(folder_ds.resolve())


def test_default_name_is_sanitized(tmp_path):
    assert default_name(tmp_path / "My Songs (2024)") == "My_Songs_2024"
    assert default_name(tmp_path / "spotify.csv") == "spotify"
    assert default_name(tmp_path / "বাংলা গান") == "dataset"
    assert default_name(tmp_path / "demo") == "demo_import"


# ------------------------------------------------------------------------------------------------
# zip
# ------------------------------------------------------------------------------------------------

def make_zip(entries: dict[str, bytes], *, symlink: str | None = None) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    buf.seek(0)
    return buf


@pytest.mark.parametrize("bad", ["../evil.txt", "ok/../../evil.txt", "/abs/evil.txt", "..\\evil.txt"])
def test_zip_path_traversal_rejected(tmp_path, bad):
    dest = tmp_path / "out" / "dest"
    with pytest.raises(SchemaError) as err:
        unpack_zip(make_zip({"fine.txt": b"x", bad: b"boom"}), dest)
    assert repr(bad) in str(err.value) or bad in str(err.value)
    assert not dest.exists()
    assert not (tmp_path / "out").exists()  # names are checked before anything is written
    assert not (tmp_path / "evil.txt").exists()


def test_zip_symlink_rejected(tmp_path):
    with pytest.raises(SchemaError, match="symbolic link"):
        unpack_zip(make_zip({"a.txt": b"x"}, symlink="link"), tmp_path / "d")


def test_zip_size_and_count_caps(tmp_path):
    z = make_zip({"a.bin": b"\0" * 1000, "b.bin": b"\0" * 1000})
    with pytest.raises(SchemaError, match="b.bin"):
        unpack_zip(z, tmp_path / "d1", max_total_bytes=1500)
    with pytest.raises(SchemaError, match="3 files"):
        unpack_zip(make_zip({f"f{i}": b"x" for i in range(3)}), tmp_path / "d2", max_files=2)
    assert not (tmp_path / "d1").exists() and not (tmp_path / "d2").exists()


def test_zip_bomb_header_lying_about_size_is_stopped(tmp_path):
    buf = io.BytesIO()
    payload = b"\0" * 200_000
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.bin", payload)
    data = bytearray(buf.getvalue())
    # shrink the declared uncompressed size (central directory and local header) to 10 bytes
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    data[22:26] = (10).to_bytes(4, "little")
    with pytest.raises(SchemaError, match="bomb.bin"):
        unpack_zip(io.BytesIO(bytes(data)), tmp_path / "d", max_total_bytes=1000)
    assert not (tmp_path / "d").exists()


def test_zip_unpack_and_import(tmp_path, make_wav):
    a = make_wav("src/a.wav", seconds=2).read_bytes()
    b = make_wav("src/b.wav", seconds=2).read_bytes()
    zpath = tmp_path / "upload.zip"
    zpath.write_bytes(make_zip({"mysongs/blues/a.wav": a, "mysongs/rock/b.wav": b,
                                "__MACOSX/mysongs/._a.wav": b"junk"}).getvalue())
    root = unpack_zip(zpath, tmp_path / "unz")
    assert root == tmp_path / "unz" / "mysongs"
    assert (root / "blues" / "a.wav").read_bytes() == a and not (tmp_path / "unz" / "__MACOSX").exists()
    ds = import_dataset(zpath)
    assert ds.name == "upload" and ds.info["layout"] == "gtzan"
    assert sorted(ds.tracks["genre"]) == ["blues", "rock"]
    assert all(Path(p).exists() for p in load_dataset("upload").tracks["path"])


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def cli_main(monkeypatch):
    """core.cli.main with only this module's command, so other commands being built cannot break it."""
    import core.cli

    monkeypatch.setattr(core.cli, "COMMAND_MODULES", ("core.datasets.importers",))
    return core.cli.main


def test_cli_import_prints_summary_and_skipped(messy, capsys, cli_main):
    main = cli_main

    rc = main(["import", str(messy), "--name", "cli_ds", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Imported dataset 'cli_ds'" in out and "4 rows" in out
    lang_line = next(line for line in out.splitlines() if line.strip().startswith("language:"))
    assert sorted(lang_line.split(":", 1)[1].strip().split(", ")) == ["(none) 3", "English 1"]
    assert "Skipped 8:" in out and "truncated.wav: truncated" in out and "metadata.csv row 3" in out
    assert len(load_dataset("cli_ds").tracks) == 4  # 2 s clips, default 30 s segments: one segment each
    assert set(load_dataset("cli_ds").tracks["parent_id"]) != {""}


def test_cli_failure_returns_nonzero(tmp_path, capsys, cli_main):
    main = cli_main

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.wav").write_bytes(b"")
    assert main(["import", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "x.wav" in capsys.readouterr().err
