"""The layout a newcomer relies on (README "Architecture"): one package per domain, no import
cycle, no module too long to read in one sitting, every model where its domain is."""

import ast
import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

import voting.models

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("core", "events", "proposals", "votes", "feed", "schedule", "day")
LONGEST = 400  # lines


def app_modules() -> dict[str, Path]:
    found = {}
    for path in [*(ROOT / "voting").rglob("*.py"), *(ROOT / "unconf").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every voting/unconf module this one imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_its_way_back_to_itself_not_even_from_inside_a_function():
    modules = app_modules()
    # AppConfig.ready runs after every model is loaded: its imports are not part of any cycle.
    graph = {
        name: imports_of(path, modules) - {name} for name, path in modules.items() if name != "voting.apps"
    }
    graph = {name: deps & set(graph) for name, deps in graph.items()}
    assert cycles(graph) == []


def test_no_module_is_longer_than_one_sitting():
    too_long = {
        name: length
        for name, path in app_modules().items()
        if (length := len(path.read_text().splitlines())) > LONGEST
    }
    assert too_long == {}


def test_every_domain_is_a_package_that_says_what_it_holds():
    for domain in DOMAINS:
        package = ROOT / "voting" / domain / "__init__.py"
        assert ast.get_docstring(ast.parse(package.read_text())), domain


def test_every_model_lives_in_its_domain_and_is_listed_in_voting_models():
    for model in apps.get_app_config("voting").get_models():
        domain = model.__module__.split(".")
        assert domain[0] == "voting" and domain[1] in DOMAINS and domain[2] == "models", model
        assert getattr(voting.models, model.__name__) is model


@pytest.mark.django_db
def test_the_layout_changed_no_table_so_a_database_from_before_it_upgrades_with_no_migration():
    """The models moved between packages of the one `voting` app: the schema the migrations
    build is still exactly the models' (makemigrations --check exits non-zero otherwise)."""
    out = io.StringIO()
    call_command("makemigrations", "voting", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
