"""Server time of the Explore page on a large library (Streamlit's AppTest, no browser).

    nice -n 5 .venv/bin/python bench/explore_page.py [--n 100000] [--repeats 3]

Writes a synthetic feature table of n tracks (8 numeric columns, 4 groups, a genre label) into a temporary
workspace, opens the Dataset page, then the Explore page (PCA of the table, k-means k = 6, PCA map), then
moves k (6 → 4 → 5 → 4 …) and prints the wall seconds of each script run: what the server spends before
the browser gets the page. The browser's own drawing is not included (tests/test_browser.py prints it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="tracks")
    ap.add_argument("--repeats", type=int, default=3, help="k moves timed")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="songscape-explore-")
    os.environ.update({"SONGSCAPE_HOME": f"{tmp}/home", "SONGSCAPE_MODELS": f"{tmp}/models",
                       "SONGSCAPE_DEMO_TRACKS": "6", "SONGSCAPE_DEMO_SECONDS": "2"})
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from core.datasets import ImportResult, save_dataset

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, args.n)
    cols = {f"f{j}": rng.normal(0, 1, args.n) + 3.0 * (y == j % 4) for j in range(8)}
    save_dataset("library", ImportResult(tracks=pd.DataFrame(
        {"track_id": [f"t{i}" for i in range(args.n)], "title": [f"song {i}" for i in range(args.n)],
         "genre": np.array(["rock", "pop", "rap", "jazz"])[y], **cols}), layout="tabular"))
    print(f"{args.n:,} tracks; load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)

    def timed(label: str, run) -> None:
        t0 = time.perf_counter()
        run()
        errors = [e.value for e in at.exception]
        print(f"{label:34s} {time.perf_counter() - t0:6.2f} s" + (f"  ERROR {errors[0]}" if errors else ""), flush=True)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["dataset_name"] = "library"
    timed("Dataset page, first", at.run)
    at.switch_page("pages/explore.py")
    timed("Explore, first (features, PCA, map)", at.run)
    timed("Explore, rerun (nothing changed)", at.run)
    for i in range(args.repeats):
        k = 4 if i % 2 == 0 else 5
        slider = next(s for s in at.slider if s.key and s.key.endswith("kmeans.n_clusters"))
        timed(f"k move → {k}", lambda k=k, slider=slider: slider.set_value(k).run())
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
