"""Streamlit helpers shared by the pages: the site map, URL-bound widgets, chart display.

With ``pages/`` this is the only code that imports streamlit. Imports go one way:
pages -> (ui, charts) -> explain.
"""
