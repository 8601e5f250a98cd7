"""Language labels from lyrics, for collections that come without them.

``detect_lyrics_language(texts)`` returns one row per lyric: ``language`` ('' when there is no lyric
to read), ``confidence`` in [0, 1] and ``hybrid`` (True for code-switched lyrics, labelled
``Hybrid``). ``add_detected_language(dataset)`` stores the result in a workspace dataset as
``language_detected`` / ``language_confidence`` and fills ``language`` from it when the dataset has no
language labels (or when asked to); info.json then says ``"language_source": "detected from lyrics"``
so the label can be shown as derived, not ground truth. CLI: ``python -m core langid --dataset NAME``.

How a lyric is read (lingua-language-detector, whose models ship inside the wheel; imported lazily,
one detector per process and language set):
  1. section tags such as ``[Chorus]`` or LRC time stamps are removed;
  2. every line is split into runs of one script (Latin, Bengali, Devanagari, …), so a line that
     switches script mid-way counts both languages;
  3. each run gets lingua's most likely language; words are counted per language;
  4. the top language is the label; when a second language covers at least ``hybrid_share`` of the
     words (default 20 %), the lyric is ``Hybrid``;
  5. confidence = Σ over the label's language(s) of (share of words) × (lingua's confidence that the
     text of those words is in that language), so stray words in another language lower it.
Language names are the demo corpus' labels: lingua's BENGALI is ``Bangla``; every other language by its
English name in title case (``English``, ``Hindi``, ``Spanish``).

Language set (DEFAULT_LANGUAGES): 33 languages widely sung in music catalogues, every South Asian one
lingua knows among them, rather than all 75 it knows. Measured on the demo corpus' 216 lyrics
(240-track plan): both sets get 216 of 216 right, but the first call (lingua loads its models then)
costs ~4 CPU-seconds and ~0.5 GB with the default set against ~11.5 CPU-s and ~1.05 GB with all
languages; later calls read the 240 lyrics in 0.2 CPU-s (0.5). The extra languages are mostly
Latin-script ones that short English lines drift to (Afrikaans, Tagalog, Sotho…). Pass
``languages="all"`` (CLI ``--languages all``) for a collection in a language outside the default set,
or a list of names to narrow it down (English + Bangla alone: 0.1 CPU-s, their scripts decide).
Why runs of lines and not lingua's ``detect_multiple_languages_of`` on the whole lyric: with the same
Hybrid rule that got 16 (default set) and 22 (all languages) of the 216 demo lyrics wrong, mostly
English lyrics with a spurious second language.
"""

from __future__ import annotations

import argparse
import functools
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ParameterError, SchemaError

HYBRID = "Hybrid"
LANGUAGE_SOURCE = "detected from lyrics"  # info.json["language_source"] when ``language`` was filled from lyrics
DETECTED_COLUMN, CONFIDENCE_COLUMN = "language_detected", "language_confidence"
ORIGINAL_COLUMN = "language_original"  # the user's labels, kept when apply=True overwrites them
DERIVED_COLUMNS = (DETECTED_COLUMN, CONFIDENCE_COLUMN, ORIGINAL_COLUMN)  # never tabular features
DEFAULT_HYBRID_SHARE = 0.2
DEFAULT_LANGUAGES = (
    "English", "Bangla", "Hindi", "Urdu", "Punjabi", "Tamil", "Telugu", "Marathi", "Gujarati",
    "Spanish", "Portuguese", "French", "German", "Italian", "Dutch", "Swedish", "Polish", "Russian", "Ukrainian",
    "Turkish", "Arabic", "Persian", "Hebrew", "Greek", "Japanese", "Korean", "Chinese", "Thai", "Vietnamese",
    "Indonesian", "Tagalog", "Swahili", "Yoruba",
)
_ALIASES = {"BANGLA": "BENGALI", "FARSI": "PERSIAN", "FILIPINO": "TAGALOG", "NORWEGIAN": "BOKMAL",
            "MANDARIN": "CHINESE"}
_TAG = re.compile(r"\[[^\]\n]*\]")  # [Chorus], [Verse 2], [00:12.34]
# Scripts written together in one language: Japanese mixes kanji and kana, so they form one run.
_SCRIPT_GROUP = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "KATAKANA-HIRAGANA": "CJK", "HALFWIDTH": "CJK",
                 "IDEOGRAPHIC": "CJK"}


def label_of(language) -> str:
    """lingua Language → label: BENGALI → 'Bangla', others by name in title case ('English')."""
    name = language.name
    return "Bangla" if name == "BENGALI" else name.replace("_", " ").title()


def _resolve(languages) -> tuple[str, ...]:
    """Names (labels, lingua names or aliases, any case) → sorted lingua enum names; None → the default set."""
    from lingua import Language

    known = {lang.name: lang for lang in Language.all()}
    if languages is None:
        languages = DEFAULT_LANGUAGES
    elif isinstance(languages, str):
        if languages.strip().lower() == "all":
            return tuple(sorted(known))
        languages = [x for x in languages.split(",") if x.strip()]
    out = set()
    for item in languages:
        key = str(item).strip().upper().replace(" ", "_")
        key = _ALIASES.get(key, key)
        if key not in known:
            raise ParameterError("languages", value=item, expected="'all' or names of languages lingua detects",
                                 fix=f"Known: {', '.join(sorted(label_of(v) for v in known.values()))}.")
        out.add(key)
    if len(out) < 2:
        raise ParameterError("languages", value=languages, expected="at least two languages to choose from",
                             fix="Add the languages your collection might be in, or pass 'all'.")
    return tuple(sorted(out))


@functools.lru_cache(maxsize=4)
def _detector(names: tuple[str, ...]):
    """One lingua detector per process and language set (models load lazily on first use)."""
    from lingua import Language, LanguageDetectorBuilder

    by_name = {lang.name: lang for lang in Language.all()}
    return LanguageDetectorBuilder.from_languages(*(by_name[n] for n in names)).build()


def _script(ch: str) -> str:
    """Unicode script of a letter, from its name ('LATIN SMALL LETTER A' → 'LATIN'); '' for non-letters."""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    script = name.split(" ", 1)[0] if name else ""
    return _SCRIPT_GROUP.get(script, script)


def _runs(line: str) -> list[str]:
    """A line split into runs of words in one script; words without letters join the current run."""
    runs: list[list[str]] = []
    current = None
    for word in line.split():
        script = next((s for s in map(_script, word) if s), "")
        if runs and (not script or current is None or script == current):
            runs[-1].append(word)
            current = current or script or None
            continue
        runs.append([word])
        current = script or None
    return [" ".join(r) for r in runs if any(ch.isalpha() for w in r for ch in w)]


def _n_words(text: str) -> int:
    return sum(1 for w in text.split() if any(ch.isalpha() for ch in w))


def _read_one(det, text: str, hybrid_share: float, cache: dict) -> tuple[str, float, bool]:
    lines = [ln.strip() for ln in _TAG.sub(" ", text).splitlines()]
    words: dict = {}
    parts: dict = {}
    for line in lines:
        for run in _runs(line):
            if run not in cache:
                cache[run] = det.detect_language_of(run)
            lang = cache[run]
            if lang is None:
                continue
            words[lang] = words.get(lang, 0) + _n_words(run)
            parts.setdefault(lang, []).append(run)
    total = sum(words.values())
    if not total:
        return "", 0.0, False
    ranked = sorted(words, key=lambda lang: (-words[lang], lang.name))
    hybrid = len(ranked) > 1 and words[ranked[1]] / total >= hybrid_share
    chosen = ranked[:2] if hybrid else ranked[:1]
    conf = sum(words[lang] / total * det.compute_language_confidence("\n".join(parts[lang]), lang)
               for lang in chosen)
    return (HYBRID if hybrid else label_of(ranked[0])), float(np.clip(conf, 0.0, 1.0)), bool(hybrid)


def detect_lyrics_language(texts, *, languages=None, hybrid_share: float = DEFAULT_HYBRID_SHARE,
                           progress=None) -> pd.DataFrame:
    """Language of each lyric. texts: sequence or Series of str (None/NaN/'' = no lyric), length n.

    languages: None (DEFAULT_LANGUAGES), 'all', or names ('English', 'Bangla', …; also 'a,b,c').
    hybrid_share: a second language covering at least this share of the words makes the lyric Hybrid.
    progress: optional callable(step, total, logs).
    Returns a DataFrame of n rows (the Series' index if given): language (str, '' when there is no
    lyric), confidence (float in [0, 1], 0 without a lyric), hybrid (bool).
    """
    if not isinstance(hybrid_share, (int, float)) or not 0.0 < float(hybrid_share) <= 0.5:
        raise ParameterError("hybrid_share", value=hybrid_share, expected="a share of words in (0, 0.5]",
                             fix="The default 0.2 marks a lyric Hybrid when a second language has 20 % of the words.")
    if isinstance(texts, str):
        raise ParameterError("texts", value=texts[:40], expected="a list or Series of lyrics, not one string",
                             fix="Wrap a single lyric in a list: detect_lyrics_language([text]).")
    index = texts.index if isinstance(texts, pd.Series) else None
    texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
    det = _detector(_resolve(languages))
    cache: dict = {}  # run text → language, across lyrics (choruses and segments repeat)
    seen: dict = {}  # lyric → row
    rows = []
    for i, text in enumerate(texts):
        if text not in seen:
            seen[text] = _read_one(det, text, float(hybrid_share), cache) if text.strip() else ("", 0.0, False)
        rows.append(seen[text])
        if progress and (i + 1 == len(texts) or (i + 1) % 50 == 0):
            progress(i + 1, len(texts), {"message": "detecting lyric languages"})
    out = pd.DataFrame(rows, columns=["language", "confidence", "hybrid"], index=index)
    return out.astype({"language": str, "confidence": float, "hybrid": bool})


# --------------------------------------------------------------------------- datasets

_DERIVED_INFO = ("name", "layout", "source", "n_tracks", "fingerprint", "content_fingerprint")


def has_language_labels(dataset) -> bool:
    """True when ``language`` holds labels the user brought (not ones detected from lyrics)."""
    t = dataset.tracks
    return ("language" in t.columns and bool((t["language"].astype(str).str.strip() != "").any())
            and dataset.info.get("language_source") != LANGUAGE_SOURCE)


def add_detected_language(dataset, *, apply: bool = False, languages=None, progress=None):
    """Detect every track's lyric language and save it into the workspace dataset; returns it reloaded.

    Adds columns ``language_detected`` (str, '' without lyrics) and ``language_confidence`` (float).
    ``language`` is set from them when the dataset has no language labels of its own (or they were
    detected before), or when ``apply`` is True (the user's labels are then kept in
    ``language_original``); info.json then records ``"language_source": "detected from lyrics"``.
    Rows and paths are stored as they were. Like any change of the track table, the first run changes
    the dataset's fingerprint (new columns); running it again writes the same table and keeps it.
    The derived columns are never tabular features (core.features.tabular skips DERIVED_COLUMNS).
    dataset: a core.datasets.Dataset from load_dataset. languages: see detect_lyrics_language.
    """
    import time

    from core import datasets

    name, root = dataset.name, Path(dataset.root)
    if root.resolve() != datasets.dataset_dir(name).resolve():
        raise ParameterError("dataset", value=str(root), expected="a workspace dataset (from load_dataset)",
                             fix=f"Load it with core.datasets.load_dataset({name!r}).")
    tracks = dataset.tracks.copy()
    lyrics = tracks["lyrics"].astype(str) if "lyrics" in tracks.columns else pd.Series("", index=tracks.index)
    if not (lyrics.str.strip() != "").any():
        raise SchemaError(f"Dataset '{name}' has no lyrics (column 'lyrics' is missing or empty in "
                          f"{root / 'tracks.csv'}); the language is detected from lyrics. Re-import it with a "
                          "lyrics column (--map lyrics=COLUMN) or label the language in your metadata CSV.")
    t0 = time.perf_counter()
    det = detect_lyrics_language(lyrics, languages=languages, progress=progress)
    seconds = time.perf_counter() - t0
    tracks[DETECTED_COLUMN] = det["language"].to_numpy()
    tracks[CONFIDENCE_COLUMN] = det["confidence"].round(4).to_numpy()
    info = dict(dataset.info)
    set_language = apply or not has_language_labels(dataset)
    if set_language:
        if has_language_labels(dataset):
            tracks[ORIGINAL_COLUMN] = tracks["language"]
        tracks["language"] = det["language"].to_numpy()
        info["language_source"] = LANGUAGE_SOURCE
        if isinstance(info.get("label_columns"), list) and "language" not in info["label_columns"]:
            info["label_columns"] = ["language", *info["label_columns"]]
    names = _resolve(languages)
    info["language_detection"] = {"detector": "lingua-language-detector", "n_languages": len(names),
                                  "hybrid_share": DEFAULT_HYBRID_SHARE, "seconds": round(seconds, 2)}
    # load_dataset made paths inside the dataset folder absolute; store them relative again, as they were
    base = root.resolve()
    tracks["path"] = [_relative_to(p, base) for p in tracks["path"].astype(str)]
    result = datasets.ImportResult(tracks=tracks, skipped=list(dataset.skipped), layout=info.get("layout", ""),
                                   source=info.get("source", ""))
    extra = {k: v for k, v in info.items() if k not in _DERIVED_INFO}
    datasets.save_dataset(name, result, extra_info=extra, root=root)  # root given: rewrites this folder in place
    return datasets.load_dataset(name)


def _relative_to(path: str, base: Path) -> str:
    if not path or not Path(path).is_absolute():
        return path
    try:
        return Path(path).resolve().relative_to(base).as_posix()
    except ValueError:
        return path


# --------------------------------------------------------------------------- CLI

def register_cli(sub) -> None:
    """``python -m core langid --dataset NAME [--apply] [--languages all|A,B,…]``."""
    p = sub.add_parser("langid", help="detect each track's language from its lyrics (English, Bangla, Hybrid, ...)",
                       description="Detect the language of every track's lyrics and store it in the dataset "
                                   "(columns language_detected, language_confidence). The label column 'language' "
                                   "is filled from it when the dataset has no language labels, or with --apply.")
    p.add_argument("--dataset", required=True, help="workspace dataset name")
    p.add_argument("--apply", action="store_true",
                   help="also replace existing language labels (kept in language_original)")
    p.add_argument("--languages", default=None, metavar="all|A,B",
                   help=f"languages to choose from (default: {len(DEFAULT_LANGUAGES)} widely sung ones; 'all' = "
                        "every language the detector knows)")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    from core.datasets import load_dataset
    from core.progress import console_progress

    before = load_dataset(args.dataset)
    had_labels = has_language_labels(before)
    ds = add_detected_language(before, apply=args.apply, languages=args.languages,
                               progress=console_progress("langid"))
    t = ds.tracks
    found = t[DETECTED_COLUMN].astype(str)
    with_lyrics = found != ""
    counts = found.replace("", "(no lyrics)").value_counts()
    mean_conf = t.loc[with_lyrics, CONFIDENCE_COLUMN].groupby(found[with_lyrics]).mean()
    print(f"langid {ds.name}: {len(t)} tracks, {int(with_lyrics.sum())} with lyrics, "
          f"{ds.info['language_detection']['seconds']:.1f} s")
    for label, n in counts.items():
        conf = f"  mean confidence {mean_conf[label]:.3f}" if label in mean_conf.index else ""
        print(f"  {label:<14}{n:>6}{conf}")
    print(f"mean confidence (tracks with lyrics): {t.loc[with_lyrics, CONFIDENCE_COLUMN].mean():.3f}")
    if had_labels:
        given = before.tracks["language"].astype(str).to_numpy()
        both = with_lyrics.to_numpy() & (given != "")
        if both.any():
            agree = float(np.mean(found.to_numpy()[both] == given[both]))
            print(f"agreement with the dataset's own language labels: {100 * agree:.1f} % of {int(both.sum())} tracks")
    if ds.info.get("language_source") == LANGUAGE_SOURCE:
        print(f"'language' now holds the detected labels (info.json: language_source = '{LANGUAGE_SOURCE}')")
    else:
        print("'language' keeps the dataset's own labels; pass --apply to replace them with the detected ones")
    return 0
