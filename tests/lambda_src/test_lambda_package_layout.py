"""The handlers work from the zip layout the packaging step builds (folder + common/)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infragen.package import build_zip

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import handler
event = {"httpMethod": "POST", "resource": "/data", "body": "{not json",
         "requestContext": {"requestId": "zip-test"}}
print(json.dumps(handler.handler(event, None)))
"""


@pytest.mark.parametrize("function", ["hello", "data_processor"])
def test_zip_contains_handler_and_common_at_the_root(function):
    names = zipfile.ZipFile(io.BytesIO(build_zip(LAMBDA_SRC / function, [LAMBDA_SRC / "common"], function).data)).namelist()

    assert "handler.py" in names
    assert {"common/__init__.py", "common/runtime.py", "common/parameters.py"} <= set(names)
    assert not any(name.startswith("events/") for name in names)


def test_data_processor_runs_from_its_extracted_zip(tmp_path):
    zipfile.ZipFile(io.BytesIO(build_zip(LAMBDA_SRC / "data_processor", [LAMBDA_SRC / "common"], "data_processor").data)).extractall(tmp_path)

    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"ENVIRONMENT": "zip", "LOG_LEVEL": "WARNING", "BATCH_SIZE": "5"},
    )

    response = json.loads(result.stdout)
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {
        "error": "request body is not valid JSON",
        "requestId": "zip-test",
    }
