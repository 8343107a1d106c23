"""Static proof that a zip can serve its handler: handler, compilation, imports, size (no code is run)."""

from __future__ import annotations

import textwrap

import pytest

from infragen.zipcheck import (
    LAMBDA_UNZIPPED_LIMIT,
    RUNTIME_PROVIDED,
    check_unzipped_size,
    stdlib_modules,
    verify_zip_entries,
)

HANDLER = "handler.handler"
OK_HANDLER = "def handler(event, context):\n    return {}\n"


def entries(files: dict[str, str]) -> dict[str, bytes | None]:
    """Archive name → dedented source, plus the folders they sit in (as build_zip writes them)."""
    result: dict[str, bytes | None] = {}
    for name, text in files.items():
        result[name] = textwrap.dedent(text).encode()
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            result.setdefault("/".join(parts[:depth]) + "/", None)
    return result


def problems(mapping: dict[str, str], handler: str = HANDLER, **options) -> list[str]:
    return [str(p) for p in verify_zip_entries(entries(mapping), handler, **options)]


def test_a_complete_zip_passes():
    assert problems({
        "handler.py": "from common import runtime\nfrom items import parse\nimport json, boto3\n" + OK_HANDLER,
        "items.py": "def parse(x):\n    return x\n",
        "common/__init__.py": "",
        "common/runtime.py": "from . import logs\nfrom .logs import get\nimport botocore.exceptions\n",
        "common/logs.py": "import logging\ndef get():\n    return logging.getLogger()\n",
    }) == []


def test_missing_handler_module_is_named():
    found = problems({"other.py": OK_HANDLER})
    assert found == ["handler.py: handler module 'handler' is missing (handler 'handler.handler')"]


@pytest.mark.parametrize("source", [
    "def handle(event, context):\n    pass\n",           # misspelt
    "class X:\n    def handler(self, e, c):\n        pass\n",  # a method, not top-level
    "def outer():\n    def handler(e, c):\n        pass\n",  # nested
])
def test_handler_function_must_be_bound_at_top_level(source):
    assert problems({"handler.py": source}) == [
        "handler.py: defines no top-level 'handler' (handler 'handler.handler')"]


@pytest.mark.parametrize("source", [
    OK_HANDLER,
    "from common.runtime import api_handler\nhandler = api_handler(print)\n",
    "import json as handler\n",
    "try:\n    from fast import handler\nexcept ImportError:\n    def handler(e, c):\n        pass\n",
    "if True:\n    handler: object = print\n",
    "from common.runtime import *\n",
])
def test_handler_may_be_any_top_level_binding(source):
    files = {"handler.py": source, "common/__init__.py": "", "common/runtime.py": "def api_handler(f):\n"
             "    return f\n"}
    assert problems(files) == []


def test_dotted_and_slashed_handler_paths_name_a_module_in_a_package():
    files = {"app/__init__.py": "", "app/main.py": "def run(e, c):\n    pass\n"}
    assert problems(files, "app.main.run") == []
    assert problems(files, "app/main.run") == []
    assert problems(files, "app.main.go") == ["app/main.py: defines no top-level 'go' (handler 'app.main.go')"]
    assert "is not \"module.function\"" in problems(files, "handler")[0]


def test_syntax_errors_anywhere_are_file_line_and_message():
    found = problems({
        "handler.py": OK_HANDLER,
        "lib/helpers.py": "x = 1\ndef broken(:\n    pass\n",
        "common/__init__.py": "def f():\n    pass\nreturn 3\n",  # only the compiler rejects this
    })
    assert len(found) == 2
    assert found[0].startswith("common/__init__.py:3: SyntaxError: 'return' outside function")
    assert found[1].startswith("lib/helpers.py:2: SyntaxError:")


def test_a_module_nested_too_deeply_is_reported_not_raised():
    found = verify_zip_entries({"handler.py": b"x = " + b"-" * 200_000 + b"1\n"}, HANDLER)
    assert len(found) == 1 and "handler.py: does not compile" in str(found[0])


def test_null_bytes_are_reported_not_raised():
    found = verify_zip_entries({"handler.py": b"x = 1\x00\n"}, HANDLER)
    assert len(found) == 1 and "null bytes" in str(found[0])


@pytest.mark.parametrize("statement, missing", [
    ("import requests", "requests"),
    ("import common.nope", "common.nope"),
    ("from common import nope", "common.nope"),  # namespace package: only submodules
    ("from common.sub import gone", None),       # sub.py exists but defines no 'gone'
    ("from items import nope", None),
    ("import items.sub", None),                   # items is a module, not a package
])
def test_unresolved_imports_name_file_line_and_module(statement, missing):
    found = problems({
        "handler.py": f"import os\n{statement}\n" + OK_HANDLER,
        "items.py": "def parse():\n    pass\n",
        "common/sub.py": "here = 1\n",  # common/ has no __init__.py: a namespace package
    })
    assert len(found) == 1, found
    assert found[0].startswith("handler.py:2: ")
    if missing:
        assert f"cannot import {missing!r}: not in the zip" in found[0]


def test_imports_inside_functions_of_own_code_are_checked():
    found = problems({"handler.py": "def handler(e, c):\n    import yaml\n"})
    assert found == ["handler.py:2: cannot import 'yaml': not in the zip, not in the Python 3.11 "
                     "standard library, not provided by the Lambda runtime"]


@pytest.mark.parametrize("guarded", [
    "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
    "try:\n    import ujson\nexcept (ValueError, ModuleNotFoundError):\n    ujson = None\n",
    "try:\n    import ujson\nexcept Exception:\n    ujson = None\n",
    "try:\n    import ujson\nexcept:\n    ujson = None\n",
    "import contextlib\nwith contextlib.suppress(ImportError):\n    import ujson\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mypy_boto3_s3\n",
    "import sys\nif sys.version_info < (3, 11):\n    import tomli\n",
    "import sys\nif sys.version_info[:2] >= (3, 99):\n    import future_thing\n",
    "import sys\nif sys.platform == 'win32':\n    import msvcrt_helper\n",
    "import sys\nif not sys.platform.startswith('linux'):\n    import macos_helper\n",
    "if __name__ == '__main__':\n    import pytest\n",
    "if False:\n    import never\n",
])
def test_optional_and_unreachable_imports_do_not_fail(guarded):
    assert problems({"handler.py": guarded + OK_HANDLER}) == []


def test_an_import_in_the_except_branch_is_still_required():
    found = problems({"handler.py": "try:\n    import json\nexcept ImportError:\n    import simplejson\n"
                      + OK_HANDLER})
    assert len(found) == 1 and "'simplejson'" in found[0] and found[0].startswith("handler.py:4:")


def test_relative_imports_resolve_against_the_package():
    files = {
        "handler.py": "from pkg.sub import mod\n" + OK_HANDLER,
        "pkg/__init__.py": "from .sub import mod\nVALUE = 1\n",
        "pkg/sub/__init__.py": "from .. import VALUE\nfrom . import mod\n",
        "pkg/sub/mod.py": "from ..sub import mod as again\nfrom .missing import x\n",
    }
    assert problems(files) == [
        "pkg/sub/mod.py:2: cannot import 'pkg.sub.missing': not in the zip, not in the Python 3.11 "
        "standard library, not provided by the Lambda runtime"]


def test_relative_import_in_a_top_level_module_and_above_the_top_package():
    found = problems({
        "handler.py": "from . import items\n" + OK_HANDLER,
        "items.py": "",
        "pkg/__init__.py": "from ... import nothing\n",
    })
    assert found[0].startswith("handler.py:1: relative import in a top-level module")
    assert found[1].startswith("pkg/__init__.py:1: relative import goes above")


def test_standard_library_is_the_target_runtimes():
    source = {"handler.py": "import distutils\nimport cgi\n" + OK_HANDLER}
    assert problems(source, runtime="python3.11") == []
    found = problems(source, runtime="python3.13")
    assert [f.split(":")[1] for f in found] == ["1", "2"]
    assert "Python 3.13 standard library" in found[0]
    assert "cgi" not in stdlib_modules((3, 13)) and "json" in stdlib_modules((3, 13))


def test_runtime_provided_packages_resolve():
    imports = "".join(f"import {name}\n" for name in sorted(RUNTIME_PROVIDED))
    assert problems({"handler.py": imports + "from dateutil import parser\n" + OK_HANDLER}) == []


def test_extra_entries_count_as_inside_the_zip_and_are_checked_where_reached():
    files = entries({
        "handler.py": "import requests\n" + OK_HANDLER,
        "requests/__init__.py": "from .api import get\nfrom . import compat\n",
        "requests/api.py": "def get():\n    import optional_speedup\n",  # lazy: not followed
        "requests/compat.py": "import idna\n",                          # eager: must resolve
        "requests/unused.py": "import never_installed\nprint 'py2'\n",   # never imported
        "idna/__init__.py": "",
        "_cffi_backend.cpython-312-x86_64-linux-gnu.so": "",
        "handler2.py": "import _cffi_backend\n",
    })
    third_party = {name for name in files if not name.startswith("handler")}
    assert verify_zip_entries(files, HANDLER, third_party=third_party) == []

    del files["idna/__init__.py"], files["idna/"]
    found = [str(p) for p in verify_zip_entries(files, HANDLER, third_party=third_party)]
    assert found == ["requests/compat.py:1: cannot import 'idna': not in the zip, not in the Python "
                     "3.11 standard library, not provided by the Lambda runtime"]


def test_installed_packages_may_bind_names_and_submodules_at_runtime():
    files = entries({
        "handler.py": "from six.moves import urllib\nfrom lazy import thing\n" + OK_HANDLER,
        "six.py": "import sys\nsys.modules[__name__ + '.moves'] = object()\n",
        "lazy/__init__.py": "import sys\nsys.modules[__name__].__dict__.update(thing=1)\n",
    })
    assert verify_zip_entries(files, HANDLER, third_party={"six.py", "lazy/__init__.py", "lazy/"}) == []
    assert len(verify_zip_entries(files, HANDLER)) == 2  # as the function's own code: not provable


def test_pip_record_marks_third_party_files_without_being_told():
    files = entries({
        "handler.py": OK_HANDLER,
        "lib/__init__.py": "import never_installed\n",
        "lib-1.0.dist-info/RECORD": "lib/__init__.py,sha256=x,10\nlib-1.0.dist-info/RECORD,,\n",
    })
    assert verify_zip_entries(files, HANDLER) == []
    files["lib-1.0.dist-info/RECORD"] = b""
    assert len(verify_zip_entries(files, HANDLER)) == 1  # now it is the function's own code


def test_size_check_names_the_biggest_files():
    assert check_unzipped_size({"a": 10, "b": 20}, "Function 'f'") is None
    assert check_unzipped_size({"a": LAMBDA_UNZIPPED_LIMIT}, "Function 'f'") is None
    message = check_unzipped_size({"data/big.bin": LAMBDA_UNZIPPED_LIMIT, "handler.py": 1,
                                   "small.txt": 1}, "Function 'f'")
    assert message.startswith("Function 'f' is 250.0 MiB unzipped; Lambda accepts at most 250.0 MiB")
    assert "262,144,000 bytes" in message and message.index("data/big.bin") < message.index("handler.py")
