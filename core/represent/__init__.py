"""Representations: what gets clustered. The REPRESENTATIONS registry and ``build_representation``.

This is the ONE representation layer: the Explore page, the ``cluster`` CLI, the Compare grid, the
report presets and the β sweep all build what they cluster here.

A representation turns a dataset into X (n_tracks, d) float32 with one row per track (same order as
``dataset.tracks``) and a ``valid`` mask. Rows that are not valid (failed extraction, no such
modality, a model without latents for them) are NaN in X, so they cannot be used by accident;
``core.cluster.cluster_rows(X, valid, ...)`` gives them label -2 and the metrics ignore them.

Kinds (each a spec with a Param table; the Param's ``role`` in ``RepresentationKind.roles`` tells the
page and the CLI which options to offer: extracted features, trained models, label columns, …):

* ``raw``           an extracted feature, flattened, standardized (z-score fitted on valid rows);
* ``pca``           standardized feature -> PCA(n_components) (capped at min(valid rows - 1, dims), said
                    in ``meta["warnings"]``): the linear baseline of every report;
* ``latent``        μ of a trained model; ``uses_labels`` from the model's config (a conditional VAE);
* ``lyrics``        the lyrics feature (TF-IDF -> SVD), optionally standardized;
* ``time_mean``     a frame feature averaged over time (log-mel (128, T) -> 128);
* ``metadata_text`` character TF-IDF of text columns (title + artist) -> SVD;
* ``onehot``        one-hot of the ``top`` most frequent values of a column (artist, genre…);
* ``concat``        blocks side by side: ``[w_1·B(part_1), w_2·B(part_2), …]`` where B centres a block and
                    scales it to unit total variance, so a block's dimension count does not weigh;
* ``fusion``        late fusion ``[B(z_audio), α·B(e_lyrics)]`` (the same block scaling; lyrics keep their
                    own geometry, no per-dimension z-score); a track without lyrics gets a zero lyrics
                    block (= the lyrics mean); valid = audio valid. α → ∞ gives the lyrics-only
                    clustering, α = 0 the audio-only one;
* ``label_onehot``  a standardized feature with ``weight * one_hot(label)`` appended: a genre-aware space
                    built from the labels, so ``uses_labels = {label}`` and the metrics flag the leak;
* ``umap``          another representation reduced by UMAP to a few dimensions (``min_dist`` 0): the
                    standard recipe before HDBSCAN/DBSCAN on 16–64-D embeddings.

Results live in ``core.cache.CACHE`` (namespace "representation"): in memory for every kind, on disk
for the costly ones, keyed by the request and its inputs' fingerprints (a re-extracted feature or a
retrained model — weights hashed — gives a new key).
"""

from core.represent import kinds as _kinds  # noqa: F401  (registers the kinds)
from core.represent.base import (
    NESTED,
    REPRESENT_VERSION,
    REPRESENTATIONS,
    Parts,
    Representation,
    RepresentationKind,
    RepresentationSpec,
    _plain,
    block_scale,
    build_representation,
    clear_memory_cache,
    concat_blocks,
    feature_warnings,
    pca_reduce,
    representation_fingerprint,
    representation_key,
    standardize,
    validate_spec,
    weights_token,
)

__all__ = ["NESTED", "REPRESENT_VERSION", "REPRESENTATIONS", "Parts", "Representation", "RepresentationKind",
           "RepresentationSpec", "_plain", "block_scale", "build_representation", "clear_memory_cache", "concat_blocks",
           "feature_warnings", "pca_reduce", "representation_fingerprint", "representation_key", "standardize",
           "validate_spec", "weights_token"]
