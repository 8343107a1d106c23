"""templates_out/ is the golden copy: every rendered template must match it byte for byte."""

import difflib
import json

import pytest

from infragen.render import render_files
from tests.stack.helpers import ROOT

GOLDEN_DIR = ROOT / "templates_out"
GOLDEN_FILES = ["dev.json", "prod.json", "bootstrap.json"]


def _render(config):
    return render_files(config, list(config.env_names), GOLDEN_DIR)


@pytest.fixture(scope="session")
def rendered_files(config):
    """Every file `infragen render --all` would write, by file name (rendered once per session)."""
    return {f.path.name: f for f in _render(config)}


@pytest.fixture(scope="session", params=GOLDEN_FILES)
def rendered(request, rendered_files):
    return rendered_files[request.param]


def test_golden_files_cover_every_rendered_file(rendered_files):
    assert sorted(rendered_files) == sorted(GOLDEN_FILES)
    assert all(f.path.parent == GOLDEN_DIR for f in rendered_files.values())


def test_matches_committed_template(rendered):
    expected = rendered.path.read_text(encoding="utf-8") if rendered.path.exists() else ""
    if rendered.text != expected:
        result = rendered.path.with_suffix(".json-result")
        result.write_text(rendered.text, encoding="utf-8")
        diff = "".join(difflib.unified_diff(expected.splitlines(True), rendered.text.splitlines(True),
                                            str(rendered.path), str(result), n=2))
        pytest.fail(f"{rendered.path.name} differs from the render (actual in {result}); "
                    f"run `infragen render --all` if intended.\n{diff[:4000]}")


def test_render_is_deterministic(config, rendered_files):
    again = {f.path.name: f.text for f in _render(config)}
    assert again == {name: f.text for name, f in rendered_files.items()}


def test_resources_are_in_insertion_order_not_sorted(rendered_files):
    names = list(json.loads(rendered_files["dev.json"].text)["Resources"])
    assert names != sorted(names)
    assert names.index("ApiGetHelloMethod") < next(i for i, n in enumerate(names)
                                                if n.startswith("ApiDeployment"))
