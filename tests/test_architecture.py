"""How the code is put together: imports go pages → dashboard → queries; the catalog is complete."""
import ast
import re
from pathlib import Path

import pytest

from dashboard.i18n import M, set_lang, t
from queries.metrics import METRICS

ROOT = Path(__file__).resolve().parent.parent


def modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code, by its full dotted name
    (`from queries import summaries` names queries.summaries)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def imports(path: Path) -> set[str]:
    """The top-level packages and the full module names `path` imports."""
    names = modules(path)
    return names | {n.split(".")[0] for n in names}


def project_module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


PACKAGES = ("dashboard", "pages", "queries", "seed", "ingest", "bench", "reports")


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


def test_pages_checked_for_sql_access_would_notice_it(tmp_path):
    """The check above sees a page that imports the query runner or SQLAlchemy, however imported."""
    for line in ("from queries.run import run", "from queries import run", "import queries.run",
                 "from sqlalchemy import text"):
        page = tmp_path / "page.py"
        page.write_text(line + "\n", encoding="utf-8")
        assert imports(page) & {"sqlalchemy", "queries.run"}, line


def test_the_import_graph_has_no_cycle():
    """No module imports, at any depth (function-level imports included), a module that imports it back."""
    files = [p for pkg in PACKAGES if (ROOT / pkg).exists() for p in (ROOT / pkg).rglob("*.py")]
    names = {project_module(p): p for p in files}
    graph = {name: {m for m in modules(path) if m in names and m != name} for name, path in names.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("path", sorted((ROOT / "queries" / "migrations" / "versions").glob("0*.py")), ids=lambda p: p.name)
def test_migrations_import_no_application_code(path):
    """A migration creates the schema of its day whatever the code becomes: Alembic and SQLAlchemy only."""
    assert {m.split(".")[0] for m in modules(path)} <= {"alembic", "sqlalchemy", "__future__"}


def test_every_metric_has_label_and_definition_in_both_languages():
    for name in METRICS:
        for part in ("label", "help"):
            ru, en = M[f"metric.{name}.{part}"]
            assert ru and en and ru != en


def documented_figures() -> dict[str, str]:
    """docs/metrics.md's figures (the first column of its tables, `a, _b` naming a and a's stem + _b)
    with the Russian label the document gives (empty for a row's second name)."""
    out = {}
    for line in (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] != "figure" and re.fullmatch(r"[a-z][a-z0-9_]*(, _[a-z0-9]+)*", cells[0]):
            first, *more = cells[0].split(", ")
            out[first] = cells[1]
            out |= {first.rsplit("_", 1)[0] + suffix: "" for suffix in more}
    return out


def test_the_registry_is_the_documented_figures():
    """Every figure of the registry is defined in docs/metrics.md and every defined figure is in the
    registry, under the label the document gives it."""
    documented = documented_figures()
    assert len(documented) > 10
    assert set(documented) == set(METRICS), (set(documented) ^ set(METRICS))
    for name, label in documented.items():
        if label:
            assert M[METRICS[name].label_key][0] == label, name


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
    assert "OpenStreetMap" in (ROOT / "ingest" / "data" / "novosibirsk_municipalities.geojson").read_text(encoding="utf-8")[:2000]
