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
    "explain": {"streamlit", "pandas", "altair", "charts", "ui", "pages", "torch", "random"},
    "charts": {"streamlit", "ui", "pages"},
    "ui": {"pages"},
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
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "pages").rglob("*.py")}
    assert on_disk == listed


def test_no_page_file_directly_in_pages():
    """Files directly in pages/ would wake Streamlit's old automatic multipage mode."""
    assert not list((ROOT / "pages").glob("*.py"))


def test_each_page_sits_in_its_sections_folder():
    from ui.site import PAGES, SECTIONS

    folders = {s: "pages/" + s.lower().replace(" ", "_") + "/" for s in SECTIONS}
    for p in PAGES:
        assert p.path.startswith(folders[p.section]), p.path


def test_engine_apart_from_lessons():
    """The engine lives in explain/nn/ and never imports a lesson module."""
    lessons = {p.stem for p in (ROOT / "explain").glob("*.py")} - {"__init__"}
    for path in (ROOT / "explain" / "nn").rglob("*.py"):
        src = path.read_text()
        for lesson in lessons:
            for form in (f"from explain.{lesson} ", f"import explain.{lesson}"):
                assert form not in src, f"{path.name} imports lesson {lesson}"
