"""Every bad input gets a true reason: names, tabular CSVs, scans, CSV encodings, parameters, labels."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.datasets import ImportResult, dataset_dir, load_dataset, save_dataset
from core.datasets.importers import IMPORTERS, import_dataset, summarize
from core.errors import ParameterError, SchemaError
from core.schema import label_columns

ROOT = Path(__file__).resolve().parent.parent


def reasons(result) -> dict[str, str]:
    return {s.item: s.reason for s in result.skipped}


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run ``python -m core`` in-process → (exit code, stdout, stderr)."""
    import core.cli

    monkeypatch.setattr(core.cli, "COMMAND_MODULES", ("core.datasets.importers", "core.features"))

    def run(*argv: str) -> tuple[int, str, str]:
        rc = core.cli.main([str(a) for a in argv])
        out = capsys.readouterr()
        return rc, out.out, out.err

    return run


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def songs(tmp_path, make_wav):
    make_wav("songs/a.wav", 440, seconds=1.5)
    make_wav("songs/b.wav", 660, seconds=1.5)
    return tmp_path / "songs"


# ------------------------------------------------------------------------------------------------
# 1. dataset names: reserved and taken
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["demo", "Demo", "DEMO"])
def test_reserved_name_is_refused(songs, name):
    with pytest.raises(ParameterError, match="demo corpus"):
        import_dataset(songs, name=name)
    assert not (dataset_dir("demo") / "tracks.csv").exists()
    with pytest.raises(ParameterError, match="name"):
        save_dataset(name, ImportResult(tracks=pd.DataFrame({"track_id": ["a"], "title": ["x"]})))


def test_demo_generator_may_write_the_reserved_name():
    tracks = pd.DataFrame({"track_id": ["a", "b"], "genre": ["rock", "pop"]})
    ds = save_dataset("demo", ImportResult(tracks=tracks), allow_reserved=True)
    assert len(load_dataset("demo").tracks) == 2 and ds.info["label_columns"] == ["genre"]


def test_cli_reserved_name_one_line(songs, cli):
    rc, out, err = cli("import", songs, "--name", "demo", "--quiet")
    assert rc == 2 and "demo" in one_line_error(err) and "--name" in err


def test_reimport_needs_replace(songs, make_wav, cli):
    first = import_dataset(songs, name="mine")
    assert first.info["content_fingerprint"] and first.info["fingerprint"]
    make_wav("songs/c.wav", 550, seconds=1.5)
    with pytest.raises(ParameterError, match="--replace"):
        import_dataset(songs, name="mine")
    assert len(load_dataset("mine").tracks) == 2  # untouched
    rc, out, err = cli("import", songs, "--name", "mine", "--quiet", "--segment-seconds", "0")
    line = one_line_error(err)
    assert rc == 2 and "already exists" in line and "--replace" in line
    rc, out, err = cli("import", songs, "--name", "mine", "--quiet", "--segment-seconds", "0", "--replace")
    assert rc == 0 and len(load_dataset("mine").tracks) == 3
    again = load_dataset("mine")
    assert again.info["content_fingerprint"] != first.info["content_fingerprint"]


def test_save_dataset_waits_for_the_lock_and_times_out_clearly(tmp_path):
    from core.locks import LockTimeoutError

    code = textwrap.dedent("""
        import sys, time
        from core.locks import workspace_lock
        with workspace_lock("dataset", "busy"):
            print("held", flush=True)
            time.sleep(30)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=str(ROOT),
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeoutError, match="busy"):
            save_dataset("busy", ImportResult(tracks=pd.DataFrame({"track_id": ["a"]})), lock_timeout=0.2)
        assert not (dataset_dir("busy") / "tracks.csv").exists()
    finally:
        proc.kill()
        proc.wait()
    save_dataset("busy", ImportResult(tracks=pd.DataFrame({"track_id": ["a"]})), lock_timeout=5)
    assert len(load_dataset("busy").tracks) == 1


# ------------------------------------------------------------------------------------------------
# 2. tabular CSVs: empty columns, inf, huge values
# ------------------------------------------------------------------------------------------------

def _spotify(tmp_path, rows: list[dict], name="songs.csv") -> Path:
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def _rows(n=12, **overrides):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        r = {"track_name": f"t{i}", "danceability": rng.random(), "energy": rng.random(), "tempo": 90 + 5 * i,
             "loudness": -rng.random() * 10, "genre": "rock" if i % 2 else "pop", "comment": ""}
        r.update({k: (v(i) if callable(v) else v) for k, v in overrides.items()})
        out.append(r)
    return out


def test_all_empty_optional_column_is_dropped_not_every_row(tmp_path):
    p = _spotify(tmp_path, _rows(12, key=""))  # 'key' is a known Spotify feature, empty throughout
    res = IMPORTERS.get("tabular")(p)
    r = reasons(res)
    assert len(res.tracks) == 12
    assert "every cell is empty" in r["songs.csv column 'key'"] and "rows were kept" in r["songs.csv column 'key'"]
    assert "every cell is empty" in r["songs.csv column 'comment'"]
    assert "key" not in res.tracks.columns and not any("row" in k for k in r)


def test_inf_cells_are_missing_and_said_once_per_column(tmp_path):
    p = _spotify(tmp_path, _rows(12, valence=lambda i: "inf" if i in (2, 5) else ("-inf" if i == 7 else 0.1 * i)))
    ds = import_dataset(p, name="infs")
    r = {s.item: s.reason for s in ds.skipped}
    assert len(ds.tracks) == 12
    assert sorted(r) == ["songs.csv column 'comment'", "songs.csv column 'valence'"]  # said once, no row skipped
    why = r["songs.csv column 'valence'"]
    assert "3 cell(s) are infinite" in why and "rows 4, 7, 9" in why
    assert ds.tracks["valence"].isna().sum() == 3
    from core.features.tabular import tabular_group

    out = tabular_group(load_dataset("infs").tracks)
    j = out["info"]["columns"].index("valence")
    Z = out["arrays"]["tabular"]
    assert np.isfinite(Z).all() and out["valid"].all()
    finite_rows = [i for i in range(12) if i not in (2, 5, 7)]
    assert np.allclose(Z[[2, 5, 7], j], 0.0) and Z[finite_rows, j].std() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("big", [1e300, 1.7e308])
def test_extreme_values_never_zero_a_column(tmp_path, big):
    from core.features.tabular import tabular_group

    vals = np.array([1, -2, 3, 0.5, -1, 2, 4, -3, 0, 1.5]) / 4 * big
    t = pd.DataFrame({"track_id": [f"r{i}" for i in range(10)], "x": vals, "y": np.arange(10.0)[::-1] ** 2})
    out = tabular_group(t)
    Z = out["arrays"]["tabular"][:, out["info"]["columns"].index("x")]
    expected = (vals / big - (vals / big).mean()) / (vals / big).std()
    assert np.isfinite(Z).all() and np.allclose(Z, expected, atol=1e-5)
    assert out["info"]["std"][0] > 0 and np.isfinite(out["info"]["std"][0])


def test_huge_values_in_a_feature_csv_import_and_extract(tmp_path, cli):
    rows = _rows(12, loudness=lambda i: (i - 6) * 1e300, acousticness=lambda i: "1e400" if i == 3 else 0.05 * i)
    p = _spotify(tmp_path, rows)
    rc, out, err = cli("import", p, "--name", "huge", "--quiet")
    assert rc == 0 and "Traceback" not in err
    assert "acousticness" in out and "infinite or too large" in out
    from core.features.tabular import tabular_group

    res = tabular_group(load_dataset("huge").tracks)
    Z = res["arrays"]["tabular"]
    j = res["info"]["columns"].index("loudness")
    assert np.isfinite(Z).all() and np.allclose(Z[:, j], (np.arange(12) - 5.5) / np.arange(12).std(), atol=1e-5)


# ------------------------------------------------------------------------------------------------
# 3. every numeric column is a feature (GTZAN's feature table)
# ------------------------------------------------------------------------------------------------

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


def _gtzan_features_csv(path: Path, *, per_class=20, n_stats=56, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (len(GENRES), n_stats))
    scales = 10.0 ** rng.uniform(-3, 4, n_stats)  # wildly different units, as in GTZAN
    rows = []
    for g, genre in enumerate(GENRES):
        for k in range(per_class):
            stats = (centers[g] + rng.normal(0, 0.8, n_stats)) * scales
            rows.append([f"{genre}.{k:05d}.wav", 661794 + int(rng.integers(-50, 50))] + stats.tolist() + [genre])
    names = [f"stat{j}_{'mean' if j % 2 == 0 else 'var'}" for j in range(n_stats)]
    df = pd.DataFrame(rows, columns=["filename", "length", *names, "label"])
    df.to_csv(path, index=False)
    return df


def test_gtzan_feature_table_uses_every_numeric_column(tmp_path):
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score
    from sklearn.preprocessing import StandardScaler

    from core.features import get_features

    csv = tmp_path / "features_30_sec.csv"
    raw = _gtzan_features_csv(csv)
    ds = import_dataset(csv)  # auto-detected: a file column, but no audio beside it
    assert ds.info["layout"] == "tabular" and len(ds.tracks) == 200
    assert sorted(set(ds.tracks["genre"])) == sorted(GENRES)  # 'label' is the genre
    assert label_columns(load_dataset(ds.name).tracks) == ["genre"]
    fs = get_features(load_dataset(ds.name), "tabular")
    info = fs.config["info"]
    numeric = [c for c in raw.columns if c not in ("filename", "label")]
    assert info["columns"] == numeric and fs.X.shape == (200, 57)  # length + 56 statistics
    assert "filename" not in info["columns"] and info["dropped"] == {"filename": "not numeric (e.g. 'blues.00000.wav')"}
    assert info["n_columns_used"] == 57 and info["n_columns_available"] == 58

    def nmi(X):
        Xs = StandardScaler().fit_transform(X)
        pred = KMeans(10, n_init=4, random_state=0).fit_predict(Xs)
        return normalized_mutual_info_score(raw["label"], pred)

    ours, direct = nmi(fs.X), nmi(raw[numeric].to_numpy())
    assert direct > 0.5 and abs(ours - direct) <= 0.02


def test_chosen_tabular_columns_and_reasons_for_the_others(tmp_path):
    from core.features.tabular import TabularConfig, tabular_group

    n = 12
    t = pd.DataFrame({"track_id": [f"r{i}" for i in range(n)], "a": np.arange(n) * 1.5 + 3, "b": np.sin(np.arange(n)),
                      "flat": 7.0, "empty": [""] * n, "mood": ["calm", "wild"] * 6, "Unnamed: 0": np.arange(n),
                      "row": np.arange(1, n + 1)})
    out = tabular_group(t)
    assert out["info"]["columns"] == ["a", "b"]
    d = out["info"]["dropped"]
    assert d["flat"].startswith("constant") and d["empty"] == "every cell is empty"
    assert d["mood"].startswith("not numeric")
    assert d["Unnamed: 0"].startswith("id-like") and d["row"].startswith("id-like")
    assert any("'flat'" in w for w in out["info"]["warnings"])
    chosen = tabular_group(t, config=TabularConfig(columns=("b",)))
    assert chosen["info"]["columns"] == ["b"] and chosen["arrays"]["tabular"].shape == (n, 1)
    with pytest.raises(SchemaError, match="nope"):
        tabular_group(t, config=TabularConfig(columns=("nope",)))


# ------------------------------------------------------------------------------------------------
# 4. weak items
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", [b"", b"\x00\xff\xfe garbage \x81\n", b'track_id,title\n"a,unclosed\n',
                                    b"title,genre\nx,rock\n"])
def test_damaged_tracks_csv_one_line(songs, damage, cli):
    import_dataset(songs, name="hurt")
    (dataset_dir("hurt") / "tracks.csv").write_bytes(damage)
    with pytest.raises(SchemaError, match="damaged"):
        load_dataset("hurt")
    rc, out, err = cli("extract", "--dataset", "hurt")
    line = one_line_error(err)
    assert rc == 2 and "tracks.csv" in line and "--replace" in line


@pytest.mark.parametrize("value", ["-5", "nan", "-inf"])
def test_negative_segment_seconds_rejected(songs, value, cli):
    rc, out, err = cli("import", songs, "--name", "seg", "--quiet", f"--segment-seconds={value}")
    assert rc == 2 and "--segment-seconds" in one_line_error(err)
    assert not (dataset_dir("seg") / "tracks.csv").exists()


def _scan_as_nobody(root: Path) -> dict:
    """Import ``root`` with the folder importer as an unprivileged user (root ignores permissions)."""
    if os.geteuid() != 0:
        res = IMPORTERS.get("folder")(root)
        return {"titles": sorted(res.tracks["title"]), "reasons": reasons(res)}
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            res = IMPORTERS.get("folder")(root)
            with os.fdopen(w, "w") as fh:
                json.dump({"titles": sorted(res.tracks["title"]), "reasons": reasons(res)}, fh)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r) as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and data
    return json.loads(data)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX permissions")
def test_unreadable_entries_are_listed_and_the_rest_imported(make_wav, tmp_path):
    base = Path(tempfile.mkdtemp(prefix="songscape-perm-", dir="/tmp"))
    try:
        root = base / "music"
        for rel, f in (("ok.wav", 440), ("locked/hidden.wav", 550), ("closed.wav", 660)):
            src = make_wav(f"perm/{rel}", f, seconds=1.2)
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, root / rel)
        for d in (base, root):
            d.chmod(0o755)
        (root / "ok.wav").chmod(0o644)
        (root / "locked").chmod(0o000)
        (root / "closed.wav").chmod(0o000)
        got = _scan_as_nobody(root)
        assert got["titles"] == ["ok"]
        assert "permission denied" in got["reasons"]["locked"] and "folder" in got["reasons"]["locked"]
        assert "permission denied" in got["reasons"]["closed.wav"]
    finally:
        (base / "music" / "locked").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_broken_and_looping_symlinks_are_skipped_with_a_reason(songs):
    (songs / "gone.wav").symlink_to(songs / "nowhere.wav")
    (songs / "loop.wav").symlink_to(songs / "loop.wav")
    (songs / "sub").mkdir()
    (songs / "sub" / "up").symlink_to(songs)  # folder loop
    (songs / "alias.wav").symlink_to(songs / "a.wav")  # a good link is followed
    res = IMPORTERS.get("folder")(songs)
    r = reasons(res)
    assert sorted(res.tracks["title"]) == ["a", "alias", "b"]
    assert "broken symbolic link" in r["gone.wav"] and "nowhere.wav" in r["gone.wav"]
    assert "loops" in r["loop.wav"]
    assert "already scanned" in r["sub/up"]


def test_csv_names_in_nfc_match_files_in_nfd(tmp_path, make_wav):
    nfc_name = "Café Ñandú.wav"
    nfd_name = unicodedata.normalize("NFD", nfc_name)
    assert nfc_name != nfd_name
    make_wav(f"mac/{nfd_name}", 440, seconds=1.2)
    make_wav(f"mac/{unicodedata.normalize('NFD', 'über')}/ö.wav", 550, seconds=1.2)
    (tmp_path / "mac" / "metadata.csv").write_text(
        f"file,genre\n{nfc_name},jazz\n{unicodedata.normalize('NFC', 'über/ö.wav')},rock\n", encoding="utf-8")
    res = IMPORTERS.get("folder")(tmp_path / "mac")
    assert res.skipped == []
    assert sorted(res.tracks["genre"]) == ["jazz", "rock"]


def test_duplicate_csv_column_names_say_which_was_used(tmp_path, make_wav):
    make_wav("dup/a.wav", seconds=1.2)
    (tmp_path / "dup" / "metadata.csv").write_text("file,genre,bpm,genre\na.wav,rock,120,pop\n", encoding="utf-8")
    res = IMPORTERS.get("folder")(tmp_path / "dup")
    r = reasons(res)
    why = r["metadata.csv column 'genre'"]
    assert "2 columns 'genre'" in why and "columns 2, 4" in why and "first (column 2) was used" in why
    assert res.tracks.loc[0, "genre"] == "rock" and "genre.1" not in res.tracks.columns


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_csv_is_decoded(tmp_path, make_wav, encoding):
    make_wav("u16/a.wav", seconds=1.2)
    make_wav("u16/b.wav", 550, seconds=1.2)
    text = "file,language,title\na.wav,Bangla,আমার সোনার বাংলা\nb.wav,Français,Été\n"
    (tmp_path / "u16" / "metadata.csv").write_bytes(text.encode(encoding))
    res = IMPORTERS.get("folder")(tmp_path / "u16")
    assert res.skipped == []
    assert sorted(res.tracks["title"]) == ["Été", "আমার সোনার বাংলা"]
    assert sorted(res.tracks["language"]) == ["Bangla", "Français"]


def test_utf16_feature_csv_is_detected_and_imported(tmp_path):
    df = pd.DataFrame({"danceability": [0.1, 0.5, 0.9], "energy": [0.2, 0.4, 0.3], "tempo": [90, 120, 130],
                       "genre": ["a", "b", "a"]})
    p = tmp_path / "feat.csv"
    p.write_bytes(df.to_csv(index=False).encode("utf-16"))
    ds = import_dataset(p)
    assert ds.info["layout"] == "tabular" and ds.tracks["tempo"].tolist() == [90, 120, 130]


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.95])
def test_truncated_ogg_is_not_imported_as_a_short_track(tmp_path, fraction):
    import soundfile as sf

    from core.datasets.folder import check_audio
    from core.errors import AudioDecodeError

    sr = 22050
    y = (0.1 * np.random.default_rng(0).standard_normal(8 * sr)).astype(np.float32)
    whole = tmp_path / "whole.ogg"
    sf.write(str(whole), y, sr)
    assert check_audio(whole) == pytest.approx(8.0, abs=0.05)
    cut = tmp_path / "cut.ogg"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(AudioDecodeError, match="truncated"):
        check_audio(cut)


def test_many_skipped_rows_are_summarized_and_listed_in_full(songs, cli):
    n = 5000
    lines = ["file,genre", "a.wav,rock"] + [f"missing_{i}.wav,pop" for i in range(n)] + \
            [f"b.wav,{g}" for g in ("x", "y", "z")]
    (songs / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, out, err = cli("import", songs, "--name", "many", "--quiet", "--segment-seconds", "0")
    assert rc == 0
    assert len(out.splitlines()) < 40
    assert f"Skipped {n + 2}:" in out and f"… and {n + 2 - 20} more" in out
    assert f"{n} × file '…' not found under" in out and "2 × duplicate" in out
    full = pd.read_csv(dataset_dir("many") / "skipped.csv")
    assert len(full) == n + 2 and list(full.columns) == ["item", "reason"]
    assert str(dataset_dir("many") / "skipped.csv") in out


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), "inf", float("nan"), "1e999"])
def test_params_reject_non_finite_numbers(value):
    from core.cluster import CLUSTERERS
    from core.params import Param, validate_params
    from core.training import TRAIN_PARAMS

    with pytest.raises(ParameterError, match="n_clusters"):
        validate_params(CLUSTERERS.get("kmeans").params, {"n_clusters": value})
    with pytest.raises(ParameterError, match="finite"):
        TRAIN_PARAMS["lr"].validate("lr", value)
    assert Param("int", 3, 1, 10).validate("k", 4.0) == 4 and Param("int", 3, 1, 10).validate("k", "4") == 4
    if value in (float("inf"), "inf"):
        assert Param("float", 1.0, 0.0, None, allow_inf=True).validate("t", value) == float("inf")


# ------------------------------------------------------------------------------------------------
# 7. any label
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def labelled(tmp_path, make_wav):
    for i, f in enumerate((300, 400, 500, 600)):
        make_wav(f"lab/s{i}.wav", f, seconds=1.2)
    (tmp_path / "lab" / "metadata.csv").write_text(
        "file,genre_en,mood,era,notes\n"
        "s0.wav,rock,calm,1990,x\ns1.wav,jazz,wild,1980,y\ns2.wav,rock,wild,1990,z\ns3.wav,pop,calm,1970,w\n",
        encoding="utf-8")
    return tmp_path / "lab"


def test_unmapped_label_column_is_listed_as_unrecognised(labelled, cli):
    rc, out, err = cli("import", labelled, "--name", "plain", "--quiet", "--segment-seconds", "0")
    assert rc == 0
    line = next(ln for ln in out.splitlines() if "unrecognised columns" in ln)
    assert "genre_en, mood, notes" in line and "--map" in line and "--labels" in line
    ds = load_dataset("plain")
    assert ds.info["unrecognised_columns"] == ["genre_en", "mood", "notes"]
    assert set(ds.tracks["genre"]) == {""} and label_columns(ds.tracks) == []


def test_column_map_makes_genre_en_the_genre(labelled):
    ds = import_dataset(labelled, name="mapped", column_map={"genre": "genre_en"}, labels=("mood", "era"))
    back = load_dataset("mapped")
    assert sorted(back.tracks["genre"]) == ["jazz", "pop", "rock", "rock"]
    assert "genre_en" not in back.tracks.columns
    assert back.info["label_columns"] == ["genre", "mood", "era"] and back.info["column_map"] == {"genre": "genre_en"}
    assert label_columns(back.tracks) == ["genre", "mood", "era"]
    assert back.info["unrecognised_columns"] == ["mood", "notes"]
    assert ds.info["label_columns"] == back.info["label_columns"]


def test_cli_map_and_labels(labelled, cli):
    rc, out, err = cli("import", labelled, "--name", "clim", "--quiet", "--segment-seconds", "0",
                       "--map", "genre=genre_en", "--labels", "mood")
    assert rc == 0
    genre_line = next(ln for ln in out.splitlines() if ln.strip().startswith("genre:"))
    mood_line = next(ln for ln in out.splitlines() if ln.strip().startswith("mood:"))
    assert "rock 2" in genre_line and "calm 2" in mood_line and "wild 2" in mood_line
    assert load_dataset("clim").info["label_columns"] == ["genre", "mood"]


@pytest.mark.parametrize("args, expect", [
    (("--map", "genre=nope"), "nope"),
    (("--map", "colour=genre_en"), "colour"),
    (("--map", "genre"), "ROLE=COLUMN"),
    (("--labels", "nope"), "labels"),
])
def test_cli_bad_map_or_labels_one_line(labelled, cli, args, expect):
    rc, out, err = cli("import", labelled, "--name", "bad", "--quiet", *args)
    assert rc == 2 and expect in one_line_error(err)
    assert not (dataset_dir("bad") / "tracks.csv").exists()


def test_label_columns_extra_and_backward_compatible():
    df = pd.DataFrame({"language": ["en", "bn", "en"], "genre": ["", "", ""], "mood": ["a", "b", "a"],
                       "era": [1990, 1980, 1990], "tempo": [90.5, 120.25, 100.0], "one": ["x", "x", "x"]})
    assert label_columns(df) == ["language"]
    assert label_columns(df, extra=("mood", "era", "tempo", "one", "missing")) == ["language", "mood", "era"]
    df.attrs["label_columns"] = ["mood"]
    assert label_columns(df) == ["language", "mood"]


def test_summary_lists_skipped_in_full_when_few(songs):
    ds = import_dataset(songs, name="few")
    assert summarize(ds).endswith("Skipped 0.")


def test_missing_markers_and_stray_words_in_a_numeric_column(tmp_path):
    rows = _rows(40, bpm=lambda i: {3: "N/A", 8: "null", 11: "fast"}.get(i, str(100 + i)),
                 mood=lambda i: "None" if i == 0 else ("calm" if i % 2 else "wild"))
    res = IMPORTERS.get("tabular")(_spotify(tmp_path, rows))
    r = reasons(res)
    assert len(res.tracks) == 40 and res.tracks["bpm"].isna().sum() == 3
    assert "1 cell(s) are not numbers (e.g. 'fast'; rows 13)" in r["songs.csv column 'bpm'"]
    assert res.tracks.loc[0, "mood"] == "None"  # text columns keep their words
    assert res.tracks["bpm"].iloc[[0, 1, 39]].tolist() == [100.0, 101.0, 139.0]


def test_real_cli_negative_segment_seconds(songs):
    proc = subprocess.run([sys.executable, "-m", "core", "import", str(songs), "--segment-seconds", "-5", "--quiet"],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "--segment-seconds" in one_line_error(proc.stderr)
