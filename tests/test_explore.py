import numpy as np

from core.explore import cluster_names, contingency, nearest_neighbors, typical_tracks


def test_contingency_counts_and_row_normalization():
    labels = np.array([0, 0, 1, 1, 1, -1, -2])
    truth = np.array(["en", "bn", "bn", "bn", "en", "en", "en"])
    t = contingency(labels, truth)
    assert list(t.index) == ["cluster 0", "cluster 1", "noise"]
    assert t.loc["cluster 1", "bn"] == 2 and t.loc["cluster 1", "en"] == 1
    assert t.values.sum() == 6  # the missing row is left out
    n = contingency(labels, truth, normalize=True)
    np.testing.assert_allclose(n.sum(axis=1).values, 1.0)
    assert abs(n.loc["cluster 1", "bn"] - 2 / 3) < 1e-12


def test_typical_tracks_are_closest_to_centre():
    X = np.array([[0.0], [0.1], [5.0], [10.0], [10.1], [10.2], [99.0]])
    labels = np.array([0, 0, 0, 1, 1, 1, -1])
    out = typical_tracks(X, labels, n_typical=1, n_random=1, random_state=0)
    assert set(out) == {0, 1}
    assert out[1]["typical"] == [4]          # 10.1 is the centroid of cluster 1
    assert out[0]["typical"] == [1]          # centroid 1.7: 0.1 is closest
    assert len(out[0]["random"]) == 1 and out[0]["random"][0] in (0, 2)


def test_nearest_neighbors_skip_self_and_invalid():
    X = np.array([[0.0, 0], [1, 0], [0, 2], [0.5, 0]])
    valid = np.array([True, True, True, False])
    nn = nearest_neighbors(X, valid, 0, k=2)
    assert [i for i, _ in nn] == [1, 2]
    assert abs(nn[0][1] - 1.0) < 1e-12
    assert nearest_neighbors(X, valid, 3) == []
    assert list(cluster_names(np.array([-1, -2, 3]))) == ["noise", "no data", "cluster 3"]
