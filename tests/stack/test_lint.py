from infragen.lint import lint_text
from tests.stack.helpers import ROOT


def test_committed_templates_are_cfn_lint_clean():
    for path in sorted((ROOT / "templates_out").glob("*.json")):
        assert lint_text(path.read_text(), str(path), "us-west-2") == []


def test_lint_reports_rule_file_path_and_message():
    text = '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python2.7"}}}}'
    findings = lint_text(text, "broken.json", "us-west-2")
    assert findings
    assert all(f.rule and f.file == "broken.json" and f.message for f in findings)
    assert any("Resources/Fn" in f.path for f in findings)
