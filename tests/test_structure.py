"""The direction of imports: pages -> (ui, charts) -> explain, and explain stays pure NumPy."""

import ast

import pytest

from tests.conftest import ROOT


def imported_top_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


FORBIDDEN = {
    "explain": {"streamlit", "pandas", "altair", "charts", "ui", "app_pages", "torch", "random"},
    "charts": {"streamlit", "ui", "app_pages"},
    "ui": {"app_pages"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        bad = imported_top_modules(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_global_random_state():
    for path in sorted((ROOT / "explain").rglob("*.py")):
        src = path.read_text()
        for banned in ("np.random.seed", "np.random.randn", "np.random.rand(", "np.random.normal"):
            assert banned not in src, f"{path.name} uses {banned}"


def test_entry_script_only_routes():
    assert imported_top_modules(ROOT / "streamlit_app.py") <= {"streamlit", "ui"}


def test_every_page_file_is_in_the_site_map():
    from ui.site import PAGES

    listed = {p.path for p in PAGES}
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "app_pages").glob("*.py")}
    assert on_disk == listed
    assert not (ROOT / "pages").exists(), "a pages/ folder would switch on Streamlit's old MPA mode"
