"""The only part of core that imports streamlit: session keys, cached wrappers, widgets, guards."""
