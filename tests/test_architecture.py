"""How the code is put together: imports go pages → dashboard → queries; the catalog is complete."""
import ast
import re
from pathlib import Path

import pytest

from dashboard.i18n import M, set_lang, t
from queries.metrics import METRICS

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "queries").rglob("*.py")), ids=lambda p: p.name)
def test_queries_never_import_streamlit_or_the_ui(path):
    assert not imports(path) & {"streamlit", "dashboard", "pages", "plotly"}


@pytest.mark.parametrize("path", sorted((ROOT / "dashboard").rglob("*.py")), ids=lambda p: p.name)
def test_dashboard_never_imports_pages(path):
    assert "pages" not in imports(path)


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_hold_no_sql(path):
    source = path.read_text(encoding="utf-8").lower()
    assert not re.search(r"\bselect\b.+\bfrom\b", source)
    assert not imports(path) & {"sqlalchemy", "queries.run"}


def test_every_metric_has_label_and_definition_in_both_languages():
    for name in METRICS:
        for part in ("label", "help"):
            ru, en = M[f"metric.{name}.{part}"]
            assert ru and en and ru != en


def test_every_message_key_used_in_the_code_exists():
    used = set()
    for path in list((ROOT / "pages").glob("*.py")) + list((ROOT / "dashboard").glob("*.py")):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_0-9.]+)["']""", path.read_text(encoding="utf-8")))
    assert used and not used - set(M)


def test_english_switch():
    set_lang("en")
    try:
        assert t("nav.overview") == "Overview"
    finally:
        set_lang("ru")
    assert t("nav.overview") == "Обзор"


def test_data_model_doc_shipped():
    for doc in ("data-model.md", "metrics.md", "calibration.md", "style.md"):
        assert (ROOT / "docs" / doc).exists()
    assert "OpenStreetMap" in (ROOT / "seed" / "data" / "novosibirsk_municipalities.geojson").read_text(encoding="utf-8")[:2000]
