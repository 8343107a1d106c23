"""templates_out/ is the golden copy: every rendered template must match it byte for byte."""

import difflib

import pytest

from tests.stack.conftest import ROOT
from infragen.config import load_config
from infragen.render import render_files

CONFIG = load_config(ROOT / "infragen.toml")
FILES = render_files(CONFIG, list(CONFIG.env_names), ROOT / "templates_out")


@pytest.mark.parametrize("rendered", FILES, ids=lambda f: f.path.name)
def test_matches_committed_template(rendered):
    expected = rendered.path.read_text(encoding="utf-8") if rendered.path.exists() else ""
    if rendered.text != expected:
        result = rendered.path.with_suffix(".json-result")
        result.write_text(rendered.text, encoding="utf-8")
        diff = "".join(difflib.unified_diff(expected.splitlines(True), rendered.text.splitlines(True),
                                            str(rendered.path), str(result), n=2))
        pytest.fail(f"{rendered.path.name} differs from the render (actual in {result}); "
                    f"run `infragen render --all` if intended.\n{diff[:4000]}")


def test_render_is_deterministic():
    again = render_files(CONFIG, list(CONFIG.env_names), ROOT / "templates_out")
    assert [f.text for f in again] == [f.text for f in FILES]


def test_resources_are_in_insertion_order_not_sorted():
    import json

    names = list(json.loads(FILES[0].text)["Resources"])
    assert names != sorted(names)
    assert names.index("HelloApiMethod") < next(i for i, n in enumerate(names)
                                                if n.startswith("ApiDeployment"))
