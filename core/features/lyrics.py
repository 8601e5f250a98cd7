"""Lyrics features: script-aware TF-IDF (word + character n-grams) → TruncatedSVD → L2-normalized.

Tokenizing: a token is a run of characters whose Unicode category starts with L (letter), M (mark)
or N (number), so Bengali words keep their vowel signs (U+09BE–U+09CC, category Mc/Mn) and virama
(U+09CD, Mn) — scikit-learn's default ``(?u)\\b\\w\\w+\\b`` splits "আমার" into "আম" + "র" because
Python's ``\\w`` excludes marks. Zero-width (non-)joiners and apostrophes between word characters
stay inside the word ("don't", "র‍্যাব"). Text is case-folded; no stop words are removed (report 000
removed English ones, which would be unfair to the Bangla half of a hybrid collection).
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import ParameterError, SchemaError

_JOINERS = "'\u2019\u200c\u200d"   # kept inside a word: apostrophes, zero-width (non-)joiner
_WORD_CHAR: dict[str, bool] = {}


@dataclass(frozen=True)
class LyricsConfig:
    n_components: int = 64          # SVD dimensions of the ``lyrics`` feature
    word_ngram_max: int = 2          # word n-grams 1..word_ngram_max
    char_ngram_min: int = 2
    char_ngram_max: int = 4          # character n-grams inside word boundaries (char_wb)
    max_features: int = 5000         # per vectorizer; also the width of ``lyrics_tfidf``
    sublinear_tf: bool = True
    min_df: int = 1
    random_state: int = 0

    def __post_init__(self):
        if self.n_components < 1:
            raise ParameterError("n_components", value=self.n_components, expected="a positive int")
        if self.max_features < 2:
            raise ParameterError("max_features", value=self.max_features, expected="an int >= 2")
        if not 1 <= self.char_ngram_min <= self.char_ngram_max:
            raise ParameterError("char_ngram_min", value=(self.char_ngram_min, self.char_ngram_max),
                                 expected="1 <= char_ngram_min <= char_ngram_max")
        if self.word_ngram_max < 1:
            raise ParameterError("word_ngram_max", value=self.word_ngram_max, expected="a positive int")


def _is_word_char(ch: str) -> bool:
    w = _WORD_CHAR.get(ch)
    if w is None:
        w = _WORD_CHAR[ch] = unicodedata.category(ch)[0] in "LMN" or ch in _JOINERS
    return w


def tokenize_lyrics(text: str) -> list[str]:
    """Case-folded words of any script, kept whole (letters + combining marks + digits).

    Every character outside Unicode categories L*, M*, N* separates words; apostrophes and
    zero-width joiners stay inside a word but are stripped from its ends.

    >>> tokenize_lyrics("আমার সোনার বাংলা")
    ['আমার', 'সোনার', 'বাংলা']
    >>> tokenize_lyrics("Don't stop the music!")
    ["don't", 'stop', 'the', 'music']
    """
    if not text:
        return []
    text = unicodedata.normalize("NFC", str(text)).casefold()
    table = {ord(ch): " " for ch in set(text) if not _is_word_char(ch)}
    out = []
    for tok in text.translate(table).split():
        tok = tok.strip(_JOINERS)
        if tok:
            out.append(tok)
    return out


def has_lyrics(texts) -> np.ndarray:
    """(n,) bool: the text has at least one word."""
    return np.array([bool(tokenize_lyrics(t)) for t in texts], dtype=bool)


def _vectorizers(cfg: LyricsConfig):
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(tokenizer=tokenize_lyrics, token_pattern=None, lowercase=False,
                            ngram_range=(1, cfg.word_ngram_max), max_features=cfg.max_features,
                            sublinear_tf=cfg.sublinear_tf, min_df=cfg.min_df, dtype=np.float32)
    chars = TfidfVectorizer(analyzer="char_wb", lowercase=False,
                            ngram_range=(cfg.char_ngram_min, cfg.char_ngram_max),
                            max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf,
                            min_df=cfg.min_df, dtype=np.float32)
    return words, chars


def lyrics_tfidf(texts, *, config: LyricsConfig | None = None):
    """Word (1..word_ngram_max)-gram TF-IDF of the texts. → (scipy.sparse (n, n_terms), fitted vectorizer)."""
    cfg = config or LyricsConfig()
    words, _ = _vectorizers(cfg)
    X = words.fit_transform([str(t) for t in texts])
    return X, words


def lyrics_group(texts, *, config: LyricsConfig | None = None) -> dict:
    """Both lyrics features for a column of texts ('' = no lyrics).

    Returns {"arrays": {"lyrics": (n, n_components), "lyrics_tfidf": (n, max_features)}, "valid": (n,),
    "info": {...}}; rows without lyrics are zeros and valid False.
    """
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    cfg = config or LyricsConfig()
    texts = ["" if t is None else str(t) for t in texts]
    valid = has_lyrics(texts)
    docs = [" ".join(tokenize_lyrics(t)) for t, v in zip(texts, valid) if v]
    n_docs = len(docs)
    if n_docs < 2:
        raise SchemaError(f"Lyrics features need at least 2 tracks with lyrics; this dataset has {n_docs}. "
                          "Add a 'lyrics' column to the track table, or use audio/tabular features.")
    words, chars = _vectorizers(cfg)
    W = words.fit_transform(docs)
    C = chars.fit_transform(docs)
    X = sp.hstack([W, C]).tocsr() * np.float32(1.0 / np.sqrt(2.0))  # each block is L2-normalized
    n_terms = X.shape[1]
    k = min(cfg.n_components, n_docs - 1, n_terms - 1)
    warnings = []
    if k < cfg.n_components:
        warnings.append(f"lyrics: SVD reduced to {k} components (n_components={cfg.n_components} needs more than "
                        f"{cfg.n_components} documents and terms; got {n_docs} documents, {n_terms} terms); "
                        f"the remaining {cfg.n_components - k} columns are zeros.")
    if k >= 1:
        svd = TruncatedSVD(n_components=k, random_state=cfg.random_state)
        Z = svd.fit_transform(X)
        explained = float(svd.explained_variance_ratio_.sum())
    else:
        Z, explained = np.zeros((n_docs, 0)), 0.0
    Z = normalize(Z, norm="l2")
    emb = np.zeros((len(texts), cfg.n_components), dtype=np.float32)
    emb[valid, :k] = Z
    tfidf = np.zeros((len(texts), cfg.max_features), dtype=np.float32)
    tfidf[valid, : W.shape[1]] = W.toarray()
    info = {"n_documents": n_docs, "n_word_terms": int(W.shape[1]), "n_char_terms": int(C.shape[1]),
            "svd_components": int(k), "svd_explained_variance": explained,
            "word_vocabulary_head": list(words.get_feature_names_out()[:20]), "warnings": warnings,
            "tokenizer": "unicode L/M/N runs (tokenize_lyrics), case-folded, no stop words",
            "config": asdict(cfg)}
    return {"arrays": {"lyrics": emb, "lyrics_tfidf": tfidf}, "valid": valid, "info": info}
