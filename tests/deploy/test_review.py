from infragen.deploy.review import ABSENT, PropertyChange, diff, format_value, local_changes, render, review_rows
from tests.deploy.helpers import resource_change, template

FN_OLD = {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 300, "Runtime": "python3.11", "Layers": ["a"]}}
FN_NEW = {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 60, "Runtime": "python3.11", "Layers": ["a", "b"],
                                                          "MemorySize": 256}}


def test_diff_gives_leaf_paths_and_compares_scalar_lists_whole():
    assert diff(FN_OLD, FN_NEW) == [
        PropertyChange("Properties.Timeout", 300, 60),
        PropertyChange("Properties.Layers", ["a"], ["a", "b"]),
        PropertyChange("Properties.MemorySize", ABSENT, 256),
    ]


def test_diff_descends_into_lists_of_objects_by_index():
    old = {"Properties": {"Tags": [{"Key": "a", "Value": "1"}]}}
    new = {"Properties": {"Tags": [{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "3"}]}}
    assert diff(old, new) == [
        PropertyChange("Properties.Tags[0].Value", "1", "2"),
        PropertyChange("Properties.Tags[1]", ABSENT, {"Key": "b", "Value": "3"}),
    ]


def test_rows_without_api_details_get_unknown_replacement_and_computed_properties():
    # moto (and sometimes AWS) returns only Action/LogicalResourceId/ResourceType
    changes = [
        resource_change("Modify", "Fn", "AWS::Lambda::Function"),
        resource_change("Add", "Queue", "AWS::SQS::Queue"),
        resource_change("Remove", "Old", "AWS::SNS::Topic"),
    ]
    old = template(Fn=FN_OLD, Old={"Type": "AWS::SNS::Topic"})
    new = template(Fn=FN_NEW, Queue={"Type": "AWS::SQS::Queue"})
    rows = review_rows(changes, old, new)
    assert [(r.action, r.logical_id, r.replacement) for r in rows] == [
        ("Modify", "Fn", "?"), ("Add", "Queue", ""), ("Remove", "Old", "")
    ]
    assert rows[0].properties[0] == PropertyChange("Properties.Timeout", 300, 60)
    assert rows[1].properties == () and rows[2].properties == ()


def test_api_details_are_merged_as_notes():
    details = [
        {"Target": {"Attribute": "Properties", "Name": "Timeout", "RequiresRecreation": "Never"}, "Evaluation": "Static",
         "ChangeSource": "DirectModification"},
        {"Target": {"Attribute": "Properties", "Name": "FunctionName", "RequiresRecreation": "Always"},
         "Evaluation": "Static", "ChangeSource": "DirectModification"},
        {"Target": {"Attribute": "Properties", "Name": "Role", "RequiresRecreation": "Never"}, "Evaluation": "Dynamic",
         "ChangeSource": "ResourceAttribute", "CausingEntity": "Role.Arn"},
    ]
    old = template(Fn={**FN_OLD, "Properties": {**FN_OLD["Properties"], "FunctionName": "a"}})
    new = template(Fn={**FN_NEW, "Properties": {**FN_NEW["Properties"], "FunctionName": "b"}})
    change = resource_change("Modify", "Fn", "AWS::Lambda::Function", Replacement="True", Details=details)
    (row,) = review_rows([change], old, new)
    assert row.replacement == "True"
    by_path = {p.path: p for p in row.properties}
    assert by_path["Properties.Timeout"].note == ""
    assert by_path["Properties.FunctionName"].note == "recreates the resource"
    assert by_path["Properties.Role"] == PropertyChange("Properties.Role", note="depends on Role.Arn")


def test_render_is_a_plain_table_with_details_and_broadening_marks():
    changes = [resource_change("Modify", "Fn", "AWS::Lambda::Function"),
               resource_change("Add", "Perm", "AWS::Lambda::Permission")]
    perm = {"Type": "AWS::Lambda::Permission",
            "Properties": {"Action": "lambda:InvokeFunction", "Principal": "*", "FunctionName": {"Ref": "Fn"}}}
    lines = render(review_rows(changes, template(Fn=FN_OLD), template(Fn=FN_NEW, Perm=perm)))
    assert lines[0].split() == ["Action", "Logical", "id", "Type", "Replacement"]
    assert lines[2].split() == ["Modify", "Fn", "AWS::Lambda::Function", "?"]
    assert "    Properties.Timeout: 300 → 60" in lines
    assert "    ! broadens access: lets * call lambda:InvokeFunction on ${Fn} from any source" in lines
    assert "\x1b" not in "".join(lines)
    assert render([]) == ["No resource changes."]


def test_long_values_keep_both_ends_around_an_ellipsis():
    value = format_value("start-" + "x" * 200 + "-end")
    assert len(value) == 60 and value.startswith('"start-') and value.endswith('-end"') and "…" in value
    assert format_value(ABSENT) == "(none)"


def test_parameter_changes_appear_on_the_resources_that_use_them():
    from infragen.deploy.review import with_parameter_changes

    fn = {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": {"Ref": "CodeKey"}}}}
    rows = with_parameter_changes([], {"CodeKey": "a.zip", "Bucket": "b"}, {"CodeKey": "c.zip", "Bucket": "b"},
                                  template(Fn=fn))
    [row] = rows
    assert (row.action, row.logical_id) == ("Modify", "Fn")
    [prop] = row.properties
    assert (prop.path, prop.before, prop.after, prop.note) == (
        "Properties.Code.S3Key", "a.zip", "c.zip", "parameter CodeKey")
    assert with_parameter_changes([], {"CodeKey": "a.zip"}, {"CodeKey": "a.zip"}, template(Fn=fn)) == []


def test_local_changes_for_a_stack_that_does_not_exist_yet():
    changes = local_changes({}, template(Fn=FN_NEW))
    assert changes == [resource_change("Add", "Fn", "AWS::Lambda::Function")]
    assert [c["ResourceChange"]["Action"] for c in local_changes(template(A=FN_OLD, B=FN_OLD), template(A=FN_NEW))] == [
        "Modify", "Remove"
    ]
