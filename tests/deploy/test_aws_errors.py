import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.parsers import ResponseParserError

from infragen.deploy.aws_errors import aws_errors
from infragen.errors import AwsError


@pytest.mark.parametrize(
    "raised, expected",
    [
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "ExecuteChangeSet"),
         "Executing failed: not allowed (AccessDenied)"),
        (EndpointConnectionError(endpoint_url="http://nowhere"), "Executing failed: Could not connect"),
        # what a service answers in the wrong format (moto, at times): the body is shown
        (ResponseParserError('Unable to parse response, invalid XML received:\nb\'{"message": "no methods"}\''),
         "Executing failed; the service sent an unreadable answer: b'{\"message\": \"no methods\"}'"),
    ],
)
def test_botocore_failures_become_aws_errors_with_context(raised, expected):
    with pytest.raises(AwsError) as error:
        with aws_errors("Executing"):
            raise raised
    assert str(error.value).startswith(expected) and error.value.exit_code == 3
