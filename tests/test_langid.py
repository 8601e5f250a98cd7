"""Language labels from lyrics: accuracy on the demo corpus, Hybrid, empty lyrics, datasets, the CLI."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest

from core import langid
from core.datasets import ImportResult, load_dataset, save_dataset
from core.datasets.demo import LANGUAGES, plan_corpus
from core.errors import ParameterError, SchemaError
from core.langid import add_detected_language, detect_lyrics_language


@pytest.fixture(scope="module")
def plan_detection():
    """The default 240-track demo plan (lyrics only, no audio) and what is detected from its lyrics."""
    specs = plan_corpus(n_tracks=240, seconds=30.0, seed=0)
    truth = pd.Series([s.language for s in specs])
    return truth, detect_lyrics_language([s.lyrics for s in specs])


def test_demo_plan_accuracy_and_hybrid_recall(plan_detection):
    truth, found = plan_detection
    assert set(truth) == set(LANGUAGES)
    sung = truth != "Instrumental"
    assert sung.sum() == 216
    accuracy = float((found["language"][sung] == truth[sung]).mean())
    assert accuracy >= 0.95, pd.crosstab(truth, found["language"])
    hybrid = truth == "Hybrid"
    assert float((found["language"][hybrid] == "Hybrid").mean()) >= 0.9  # recall (measured: 24 of 24)
    assert float((truth[found["language"] == "Hybrid"] == "Hybrid").mean()) >= 0.9  # precision
    assert (found["hybrid"] == (found["language"] == "Hybrid")).all()
    assert set(found["language"][sung]) <= {"English", "Bangla", "Hybrid"}  # names match the corpus' labels
    for lang in ("English", "Bangla"):
        assert found["confidence"][truth == lang].mean() > 0.9
    assert found["confidence"].between(0.0, 1.0).all()


def test_instrumentals_and_empty_lyrics_get_no_label(plan_detection):
    truth, found = plan_detection
    instr = truth == "Instrumental"
    assert (found["language"][instr] == "").all() and (found["confidence"][instr] == 0.0).all()
    texts = pd.Series(["", None, np.nan, "[Chorus]\n  ", "12 34", "  \n "], index=[10, 11, 12, 13, 14, 15])
    out = detect_lyrics_language(texts)
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    assert list(out.columns) == ["language", "confidence", "hybrid"]
    assert (out["language"] == "").all() and (out["confidence"] == 0.0).all() and not out["hybrid"].any()


def test_code_switching_within_a_line_and_stray_words():
    out = detect_lyrics_language([
        "I will love you until the stars fall down আমি তোমায় ভালোবাসি সারা জীবন",  # 9 + 5 words
        "নদীর ধারে বসে আছি একা\nআকাশ ভরা তারা জ্বলে রাতে\nবাতাসে ভেসে আসে গান yeah",  # 1 English word in 15
        "নদীর ধারে বসে আছি একা\nআকাশ ভরা তারা জ্বলে রাতে\nবাতাসে ভেসে আসে গান",
        "[Verse 1]\n[00:12.00] Standing alone in a broken town\nThe city glows like a thousand stars",
    ])
    assert list(out["language"]) == ["Hybrid", "Bangla", "Bangla", "English"]
    assert list(out["hybrid"]) == [True, False, False, False]
    assert out["confidence"][2] > out["confidence"][1]  # the stray word lowers the confidence, not the label
    assert out["confidence"][1] == pytest.approx(14 / 15, abs=0.02)
    # kanji and kana are one script run (Japanese), not a Chinese/Japanese mix
    assert list(detect_lyrics_language(["東京の 夜に 輝く 星が 見える\n君の 声が 聞こえる"])["language"]) == ["Japanese"]


def test_language_names_and_parameters():
    from lingua import Language

    assert langid.label_of(Language.BENGALI) == "Bangla" and langid.label_of(Language.ENGLISH) == "English"
    assert langid._resolve(["bangla", "English"]) == ("BENGALI", "ENGLISH")
    assert langid._resolve("Bengali,english,Farsi") == ("BENGALI", "ENGLISH", "PERSIAN")
    assert len(langid._resolve("all")) == len(list(Language.all())) == 75
    assert len(langid._resolve(None)) == len(langid.DEFAULT_LANGUAGES) == 33
    with pytest.raises(ParameterError, match="languages.*Klingon.*Known: .*Bangla"):
        detect_lyrics_language(["hello"], languages=["English", "Klingon"])
    with pytest.raises(ParameterError, match="texts"):
        detect_lyrics_language("one lyric as a plain string")
    with pytest.raises(ParameterError, match="hybrid_share"):
        detect_lyrics_language(["hello"], hybrid_share=0.8)
    # a narrower set is honoured: English and Bangla only
    two = detect_lyrics_language(["Dancing under neon lights all night", "আলোর নিচে নাচি সারা রাত"],
                                 languages=["English", "Bangla"])
    assert list(two["language"]) == ["English", "Bangla"]


def _lyrics_only_dataset(name: str, *, language=None):
    lyrics = ["Fire is burning underneath my skin\nStanding alone in a broken town",
              "আগুন জ্বলে বুকের ভেতর আজ\nভাঙা শহরে একা দাঁড়িয়ে আছি",
              "Fire is burning underneath my skin\nআগুন জ্বলে বুকের ভেতর আজ",
              ""]
    tracks = pd.DataFrame({"track_id": ["a", "b", "c", "d"], "path": [""] * 4, "title": list("ABCD"),
                           "lyrics": lyrics, "genre": ["rock", "rock", "folk", "folk"]})
    if language is not None:
        tracks["language"] = language
    return save_dataset(name, ImportResult(tracks=tracks, layout="tabular", source="lyrics.csv"))


def test_add_detected_language_fills_missing_labels():
    before = load_dataset(_lyrics_only_dataset("lyr").name)
    ds = add_detected_language(before)
    assert list(ds.tracks["language"]) == ["English", "Bangla", "Hybrid", ""]
    assert list(ds.tracks["language_detected"]) == ["English", "Bangla", "Hybrid", ""]
    assert ds.tracks["language_confidence"].iloc[:3].min() > 0.8 and ds.tracks["language_confidence"].iloc[3] == 0
    assert ds.info["language_source"] == "detected from lyrics"
    assert ds.info["layout"] == "tabular" and ds.info["source"] == "lyrics.csv"
    assert ds.fingerprint != before.fingerprint  # new columns: a new table
    again = load_dataset("lyr")  # written to disk
    assert list(again.tracks["language"]) == ["English", "Bangla", "Hybrid", ""]
    assert "language_original" not in again.tracks.columns
    rerun = add_detected_language(again)  # labels detected before count as none: detected again, same table
    assert rerun.info["language_source"] == "detected from lyrics" and rerun.fingerprint == ds.fingerprint
    pd.testing.assert_frame_equal(rerun.tracks, again.tracks)


def test_detected_columns_are_not_tabular_features():
    from core.features.tabular import tabular_columns

    tracks = pd.DataFrame({"track_id": list("abcd"), "tempo": [100.0, 120.0, 90.0, 140.0],
                           "energy": [0.1, 0.5, 0.7, 0.2], "language_detected": ["English", "Bangla", "", "Hybrid"],
                           "language_confidence": [0.9, 1.0, 0.0, 0.8]})
    assert tabular_columns(tracks) == ["tempo", "energy"]


def test_no_lyrics_is_a_clear_error():
    tracks = pd.DataFrame({"track_id": ["a", "b"], "path": ["", ""], "title": ["A", "B"], "lyrics": ["", ""]})
    ds = save_dataset("nolyr", ImportResult(tracks=tracks, layout="tabular"))
    with pytest.raises(SchemaError, match="nolyr.*no lyrics.*--map lyrics=COLUMN"):
        add_detected_language(ds)


def test_demo_dataset_keeps_its_labels_unless_applied(capsys):
    from core.cli import main
    from core.datasets.demo import demo_is_current, ensure_demo_dataset

    demo = ensure_demo_dataset(n_tracks=24, seconds=1.0, seed=0, jobs=1)  # 6 genres x 4 languages
    assert main(["langid", "--dataset", demo.name]) == 0
    out = capsys.readouterr().out
    assert "24 tracks, 18 with lyrics" in out and "mean confidence" in out
    assert re.search(r"\(no lyrics\) +6\n", out) and re.search(r"Hybrid +6 +mean confidence", out)
    assert "agreement with the dataset's own language labels: 100.0 % of 18 tracks" in out
    ds = load_dataset(demo.name)
    pd.testing.assert_series_equal(ds.tracks["language"], demo.tracks["language"])  # user labels kept
    sung = ds.tracks["lyrics"] != ""
    assert (ds.tracks["language_detected"][sung] == ds.tracks["language"][sung]).all()
    assert "language_source" not in ds.info
    assert list(ds.tracks["path"]) == list(demo.tracks["path"]) and all(map(os.path.exists, ds.tracks["path"]))
    stored = pd.read_csv(ds.root / "tracks.csv", keep_default_na=False)["path"]
    assert stored.str.match(r"^audio/\w+_\d{4}\.ogg$").all()  # still relative to the dataset folder
    assert demo_is_current(n_tracks=24, seconds=1.0, seed=0)  # not rebuilt by the next ensure_demo_dataset

    applied = add_detected_language(ds, apply=True)
    assert applied.info["language_source"] == "detected from lyrics"
    assert list(applied.tracks["language_original"]) == list(demo.tracks["language"])
    assert set(applied.tracks["language"][~sung]) == {""}  # instrumentals: no lyrics, no detected label
    assert list(applied.tracks["language"][sung]) == list(demo.tracks["language"][sung])
