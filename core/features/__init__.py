"""Feature extraction (FEATURES registry) and the feature cache.

CONTRACT (used by models, representations and pages):

    @dataclass
    class FeatureSet:
        name: str                 # registry name, e.g. "mfcc_stats"
        X: np.ndarray             # (n_tracks, *shape) float32, row i ↔ dataset.tracks.iloc[i];
                                  # rows where valid is False are zeros
        valid: np.ndarray         # (n_tracks,) bool: False where extraction failed or data is missing
        track_ids: np.ndarray     # (n_tracks,) str
        fingerprint: str          # sha256 of dataset fingerprint + feature config + code version
        config: dict
        errors: dict[str, str]    # track_id -> reason, for rows that failed

    get_features(dataset, name, *, progress=None, cancel=None, jobs=None) -> FeatureSet
    available_features(dataset) -> list[str]   # names that make sense for this dataset
    FEATURES: Registry of FeatureSpec(name, label, kind "audio"|"lyrics"|"tabular", shape, help)
"""
