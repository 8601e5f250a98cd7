"""Server time of the Reconstructions page with a Conv2D VAE on log-mel (Streamlit's AppTest, no browser).

    nice -n 5 .venv/bin/python bench/reconstructions_page.py --home DIR [--epochs 2] [--moves 3]

Uses (or makes) the demo corpus in ``--home`` (``python -m core demo``) and a Conv2D VAE trained on its
log-mel (``python -m core train --model conv2d_vae``, in ``--home``/models), both through this checkout's
command line. Then times, in one process: opening the page, showing the latent traversal (where the page
has a view switch), and ``--moves`` moves of the latent-dimension slider. Run it from two checkouts on the
same ``--home`` to compare versions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", required=True, help="workspace (the demo corpus is made there once)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--moves", type=int, default=3)
    args = ap.parse_args(argv)
    home = Path(args.home).resolve()
    models = home / f"models-{ROOT.name}"
    env = {**os.environ, "SONGSCAPE_HOME": str(home), "SONGSCAPE_MODELS": str(models)}
    os.environ.update({"SONGSCAPE_HOME": str(home), "SONGSCAPE_MODELS": str(models)})
    py = sys.executable
    if not (home / "datasets" / "demo" / "tracks.csv").exists():
        t0 = time.perf_counter()
        subprocess.run([py, "-m", "core", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        print(f"demo corpus made in {time.perf_counter() - t0:.0f} s")
    if not any(models.rglob("model.pt")):
        t0 = time.perf_counter()
        subprocess.run([py, "-m", "core", "train", "--dataset", "demo", "--model", "conv2d_vae", "--epochs",
                        str(args.epochs), "--quiet"], cwd=ROOT, env=env, check=True, capture_output=True)
        print(f"conv2d_vae trained ({args.epochs} epochs, features included) in {time.perf_counter() - t0:.0f} s")
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    print(f"code: {ROOT}; load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["dataset_name"] = "demo"
    at.run()
    at.switch_page("pages/reconstructions.py")

    def timed(label: str, run) -> None:
        t0 = time.perf_counter()
        run()
        errors = [e.value for e in at.exception]
        print(f"{label:32s} {time.perf_counter() - t0:6.2f} s" + (f"  ERROR {errors[0]}" if errors else ""), flush=True)

    timed("open (2 reconstructions)", at.run)
    views = [r for r in at.radio if r.key == "recon.view"]
    if views:
        timed("show the latent traversal", lambda: views[0].set_value("Latent traversal").run())
    for i in range(args.moves):
        dim = next(s for s in at.slider if s.key == "trav.dim")
        timed(f"traversal move → z{i + 1}", lambda dim=dim, i=i: dim.set_value(i + 1).run())
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
