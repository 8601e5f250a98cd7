"""House rules that keep the layout honest."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = {"app.py", "pages", "core", "assets", "cached_models", "tests", "requirements.txt", "requirements-dev.txt",
             "pyproject.toml", ".streamlit",
             "README.md", "Makefile", ".ci", "bench", "docs"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_core_imports_no_streamlit_outside_core_ui():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py")
                 if "ui" not in p.relative_to(ROOT / "core").parts[:1] and "streamlit" in _imports(p)]
    assert offenders == []


def test_importing_core_pipeline_does_not_load_streamlit_or_torch():
    code = ("import sys, core.cli, core.cluster, core.metrics, core.represent, core.datasets, core.features; "
            "print('streamlit' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_top_level_is_the_agreed_layout():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    tops = {p.split("/")[0] for p in tracked} - {".gitignore"}
    assert tops <= TOP_LEVEL, tops - TOP_LEVEL


def test_requirements_are_pinned():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert "torch==2.13.0" in lines
    assert all("==" in l for l in lines), [l for l in lines if "==" not in l]


def test_pages_hold_no_heavy_computation():
    """Pages read widgets, call core, draw: no sklearn/torch/librosa/numpy math imported in a page."""
    for p in (ROOT / "pages").glob("*.py"):
        assert not _imports(p) & {"sklearn", "torch", "librosa", "umap", "hdbscan"}, p.name
        assert len(p.read_text().splitlines()) <= 110, f"{p.name} is getting long: move logic into core/ui"


def test_product_speaks_to_users_only():
    """No pointer outside the repository, no internal file ids, in anything a user reads."""
    import re

    pattern = re.compile(r"\.\./shared|shared/papers|_[0-9a-f]{16}\.txt|this session|other engineers")
    files = [ROOT / "README.md", ROOT / "requirements.txt", ROOT / "app.py"] + list((ROOT / "docs").glob("*.md")) + \
        list((ROOT / "core").rglob("*.py")) + list((ROOT / "pages").glob("*.py"))
    offenders = [str(p.relative_to(ROOT)) for p in files if p.exists() and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_modules_stay_small():
    big = {str(p.relative_to(ROOT)): n for p in (ROOT / "core").rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520}
    assert big == {}
