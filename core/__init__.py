"""Songscape's headless library: tracks → features → representations → clusters → metrics.

Nothing in ``core`` imports streamlit except ``core.ui``; heavy libraries (torch, umap, hdbscan)
are imported lazily inside the functions that need them so the app starts fast.
"""

__version__ = "0.1.0"
