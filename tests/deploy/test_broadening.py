import json

import pytest

from infragen.deploy.broadening import reasons


def res(rtype_props):
    return {"Properties": rtype_props}


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


READ = allow("s3:GetObject", "arn:aws:s3:::b/*")
ROLE = res({"AssumeRolePolicyDocument": doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                              "Action": "sts:AssumeRole"}),
            "Policies": [{"PolicyName": "app", "PolicyDocument": doc(READ)}]})


def with_props(resource, **props):
    return {"Properties": {**resource["Properties"], **props}}


CASES = [
    # (name, type, old, new, expected reasons — exact)
    ("role policy: new action", "AWS::IAM::Role", ROLE,
     with_props(ROLE, Policies=[{"PolicyName": "app",
                                 "PolicyDocument": doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::b/*"))}]),
     ["role policy app: allows s3:PutObject on arn:aws:s3:::b/*"]),
    ("role policy: resource widened to *", "AWS::IAM::Role", ROLE,
     with_props(ROLE, Policies=[{"PolicyName": "app", "PolicyDocument": doc(allow("s3:GetObject", "*"))}]),
     ["role policy app: allows s3:GetObject on *"]),
    ("role policy: narrowed", "AWS::IAM::Role",
     with_props(ROLE, Policies=[{"PolicyName": "app", "PolicyDocument": doc(allow("s3:*", "*"))}]), ROLE, []),
    ("role policy: condition dropped", "AWS::IAM::Role",
     with_props(ROLE, Policies=[{"PolicyName": "app", "PolicyDocument": doc(
         {**READ, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}]), ROLE,
     ["role policy app: allows s3:GetObject on arn:aws:s3:::b/*"]),
    ("role: new trusted principal", "AWS::IAM::Role", ROLE,
     with_props(ROLE, AssumeRolePolicyDocument=doc(
         {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})),
     ["trust policy: allows sts:AssumeRole to AWS:*"]),
    ("role: managed policy attached", "AWS::IAM::Role", ROLE,
     with_props(ROLE, ManagedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]),
     ["attaches managed policy arn:aws:iam::aws:policy/AdministratorAccess"]),
    ("policy: deny removed", "AWS::IAM::Policy",
     res({"PolicyName": "p", "PolicyDocument": doc(READ, {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}),
          "Roles": [{"Ref": "R"}]}),
     res({"PolicyName": "p", "PolicyDocument": doc(READ), "Roles": [{"Ref": "R"}]}),
     ["removes policy p: denies s3:DeleteObject on *"]),
    ("managed policy: attached to another role", "AWS::IAM::ManagedPolicy",
     res({"PolicyDocument": doc(READ), "Roles": [{"Ref": "A"}]}),
     res({"PolicyDocument": doc(READ), "Roles": [{"Ref": "A"}, {"Ref": "B"}]}),
     ["policy attached to role ${B}"]),
    ("intrinsic resource changed", "AWS::IAM::Policy",
     res({"PolicyName": "p", "PolicyDocument": doc(allow("sqs:SendMessage", {"Fn::GetAtt": ["Q", "Arn"]}))}),
     res({"PolicyName": "p", "PolicyDocument": doc(allow("sqs:SendMessage", {"Fn::GetAtt": ["Q2", "Arn"]}))}),
     ["policy p: allows sqs:SendMessage on ${Q2.Arn}"]),
    ("lambda permission added", "AWS::Lambda::Permission", None,
     res({"Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com", "FunctionName": {"Ref": "Fn"},
          "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"}}),
     ["lets apigateway.amazonaws.com call lambda:InvokeFunction on ${Fn} "
      "(SourceArn arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*)"]),
    ("lambda permission loses its source", "AWS::Lambda::Permission",
     res({"Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com", "FunctionName": "f", "SourceArn": "arn:b"}),
     res({"Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com", "FunctionName": "f"}),
     ["lets s3.amazonaws.com call lambda:InvokeFunction on f from any source"]),
    ("lambda permission removed", "AWS::Lambda::Permission",
     res({"Action": "lambda:InvokeFunction", "Principal": "*", "FunctionName": "f"}), None, []),
    ("security group: ingress widened", "AWS::EC2::SecurityGroup",
     res({"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}]}),
     res({"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
                                   {"IpProtocol": "-1", "CidrIpv6": "::/0"}]}),
     ["security group ingress: tcp port 443 from 0.0.0.0/0", "security group ingress: all traffic from ::/0"]),
    ("ingress resource added", "AWS::EC2::SecurityGroupIngress", None,
     res({"GroupId": {"Ref": "Sg"}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 23, "CidrIp": "0.0.0.0/0"}),
     ["security group ingress: tcp ports 22-23 from 0.0.0.0/0"]),
    ("kms key policy grants another account (policy given as a string)", "AWS::KMS::Key",
     res({"KeyPolicy": json.dumps(doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111:root"}, "Action": "kms:*",
                                       "Resource": "*"}))}),
     res({"KeyPolicy": doc({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111:root", "arn:aws:iam::222:root"]},
                            "Action": "kms:*", "Resource": "*"})}),
     ["key policy: allows kms:* on * to AWS:arn:aws:iam::222:root"]),
    ("api method loses authorization", "AWS::ApiGateway::Method",
     res({"HttpMethod": "GET", "AuthorizationType": "AWS_IAM", "ApiKeyRequired": True}),
     res({"HttpMethod": "GET", "AuthorizationType": "NONE"}),
     ["method loses authorization (was AWS_IAM)", "method no longer requires an API key"]),
    ("api method keeps authorization", "AWS::ApiGateway::Method",
     res({"AuthorizationType": "COGNITO_USER_POOLS"}), res({"AuthorizationType": "COGNITO_USER_POOLS", "Foo": 1}), []),
    ("bucket policy: public read", "AWS::S3::BucketPolicy",
     res({"Bucket": "b", "PolicyDocument": doc()}),
     res({"Bucket": "b", "PolicyDocument": doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::b/*"})}),
     ["bucket policy: allows s3:GetObject on arn:aws:s3:::b/* to *"]),
    ("bucket: public access block turned off", "AWS::S3::Bucket",
     res({"PublicAccessBlockConfiguration": {f: True for f in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                                "RestrictPublicBuckets")}}),
     res({"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                             "BlockPublicPolicy": False, "RestrictPublicBuckets": "false"}}),
     ["public access block turns off BlockPublicPolicy, RestrictPublicBuckets"]),
    ("bucket: public access block removed", "AWS::S3::Bucket",
     res({"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}), res({}), ["public access block removed"]),
    ("bucket: new bucket with AWS defaults", "AWS::S3::Bucket", None, res({"BucketName": "b"}), []),
    ("bucket: public ACL", "AWS::S3::Bucket", res({}), res({"AccessControl": "PublicRead"}),
     ["bucket ACL becomes PublicRead"]),
    ("unrelated type", "AWS::SQS::Queue", res({"VisibilityTimeout": 1}), res({"VisibilityTimeout": 2}), []),
]


@pytest.mark.parametrize("name, rtype, old, new, expected", CASES, ids=[c[0] for c in CASES])
def test_broadening(name, rtype, old, new, expected):
    assert reasons(rtype, old, new) == expected


def test_adding_an_iam_role_lists_everything_it_grants():
    found = reasons("AWS::IAM::Role", None, ROLE)
    assert found == ["role policy app: allows s3:GetObject on arn:aws:s3:::b/*",
                     "trust policy: allows sts:AssumeRole to Service:lambda.amazonaws.com"]


def test_computed_policies_count_as_changed_when_they_change():
    old = res({"PolicyName": "p", "PolicyDocument": {"Fn::If": ["C", doc(READ), doc()]}})
    new = res({"PolicyName": "p", "PolicyDocument": {"Fn::If": ["C", doc(allow("*", "*")), doc()]}})
    assert reasons("AWS::IAM::Policy", old, new) == ["policy p: changed (computed policy)"]
    assert reasons("AWS::IAM::Policy", old, old) == []


def test_wildcards_cover_specific_grants_across_a_roles_policies():
    wide = with_props(ROLE, Policies=[{"PolicyName": "all", "PolicyDocument": doc(allow("S3:*", "arn:aws:s3:::b/*"))}])
    split = with_props(ROLE, Policies=[
        {"PolicyName": "all", "PolicyDocument": doc(allow("s3:*", "arn:aws:s3:::b/*"))},
        {"PolicyName": "read", "PolicyDocument": doc(allow("s3:GetObject", "arn:aws:s3:::b/key"))},
    ])
    assert reasons("AWS::IAM::Role", wide, split) == []
    trusted = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111:*"}, "Action": "sts:AssumeRole"})
    narrower = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111:role/ci"}, "Action": "sts:AssumeRole"})
    assert reasons("AWS::IAM::Role", with_props(ROLE, AssumeRolePolicyDocument=trusted),
                   with_props(ROLE, AssumeRolePolicyDocument=narrower)) == []


def test_narrowing_a_deny_broadens():
    old = res({"PolicyName": "p", "PolicyDocument": doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})})
    new = res({"PolicyName": "p", "PolicyDocument": doc({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})})
    assert reasons("AWS::IAM::Policy", old, new) == ["removes policy p: denies s3:* on *"]
    assert reasons("AWS::IAM::Policy", new, old) == []


def test_key_policy_given_as_sub_text_is_read_statement_by_statement():
    def key(*statements):
        text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        return {"Properties": {"KeyPolicy": {"Fn::Sub": text}}}

    admin = {"Effect": "Allow", "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
             "Action": "kms:*", "Resource": "*"}
    logs = {"Effect": "Allow", "Principal": {"Service": "logs.${AWS::Region}.amazonaws.com"},
            "Action": "kms:Decrypt*", "Resource": "*"}
    assert reasons("AWS::KMS::Key", key(admin), key(admin)) == []
    [reason] = reasons("AWS::KMS::Key", key(admin), key(admin, logs))
    assert "logs.${AWS::Region}.amazonaws.com" in reason and "computed" not in reason


# --- how grants are said: one line per document, effect, principal, resource and condition ---------------

LOGS_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/infragen/infragen-dev/*"
LOGS_USE_KEY = {"Effect": "Allow", "Principal": {"Service": "logs.${AWS::Region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*", "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [LOGS_ARN]}}}


def test_a_statements_actions_are_listed_on_one_line_with_a_short_condition():
    [line] = reasons("AWS::KMS::Key", None, res({"KeyPolicy": doc(LOGS_USE_KEY)}))
    assert line == (
        "key policy: allows kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:DescribeKey on * "
        "to Service:logs.${AWS::Region}.amazonaws.com "
        "if ArnLike kms:EncryptionContext:aws:logs:arn=arn:${AWS::Partition}:l…/infragen/infragen-dev/*"
    )


def test_lines_split_by_resource_principal_and_condition_and_join_across_statements():
    bucket, other = "arn:aws:s3:::b/*", "arn:aws:s3:::c/*"
    policy = doc(allow(["s3:GetObject", "s3:PutObject"], [bucket, other]),
                 allow("s3:DeleteObject", bucket),
                 allow("s3:ListBucket", bucket, Condition={"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]},
                                                          "Bool": {"aws:SecureTransport": "true"}}))
    assert reasons("AWS::IAM::Policy", None, res({"PolicyName": "p", "PolicyDocument": policy})) == [
        f"policy p: allows s3:GetObject, s3:PutObject, s3:DeleteObject on {bucket}",
        f"policy p: allows s3:GetObject, s3:PutObject on {other}",
        f"policy p: allows s3:ListBucket on {bucket} if StringEquals aws:SourceVpc=[vpc-1, vpc-2] "
        "and Bool aws:SecureTransport=true",
    ]


def test_only_the_new_actions_of_a_statement_are_listed():
    old = res({"KeyPolicy": doc({**LOGS_USE_KEY, "Action": ["kms:Decrypt*", "kms:DescribeKey"]})})
    [line] = reasons("AWS::KMS::Key", old, res({"KeyPolicy": doc(LOGS_USE_KEY)}))
    assert line.startswith("key policy: allows kms:Encrypt*, kms:ReEncrypt*, kms:GenerateDataKey* on * to ")


def test_removed_denies_are_listed_together():
    deny = {"Effect": "Deny", "Action": ["s3:DeleteObject", "s3:PutBucketPolicy"], "Resource": "*"}
    old = res({"PolicyName": "p", "PolicyDocument": doc(READ, deny)})
    new = res({"PolicyName": "p", "PolicyDocument": doc(READ)})
    assert reasons("AWS::IAM::Policy", old, new) == ["removes policy p: denies s3:DeleteObject, s3:PutBucketPolicy on *"]


def test_narrowing_a_not_action_or_not_principal_broadens():
    def policy(**statement):
        return res({"PolicyName": "p", "PolicyDocument": doc({"Effect": "Allow", "Resource": "*", **statement})})

    assert reasons("AWS::IAM::Policy", policy(NotAction=["iam:*", "s3:*"]), policy(NotAction=["iam:*"])) == [
        "policy p: allows all but iam:* on *"
    ]
    assert reasons("AWS::IAM::Policy", policy(NotAction=["iam:*"]), policy(NotAction=["iam:*", "s3:*"])) == [
        "policy p: allows all but iam:*, s3:* on *"  # counted as changed: "all but" is never matched against wildcards
    ]

    def bucket_policy(*principals):
        statement = {"Effect": "Allow", "NotPrincipal": {"AWS": list(principals)}, "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::b/*"}
        return res({"PolicyDocument": doc(statement)})

    assert reasons("AWS::S3::BucketPolicy", bucket_policy("arn:aws:iam::1:root", "arn:aws:iam::2:root"),
                   bucket_policy("arn:aws:iam::1:root")) == [
        "bucket policy: allows s3:GetObject on arn:aws:s3:::b/* to all but AWS:arn:aws:iam::1:root"
    ]
