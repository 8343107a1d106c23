"""Too broad: reads one parameter of the path its grant covers."""

import os

from shared.clients import client


def handler(event, context):
    name = f"/kinds/{os.environ['ENVIRONMENT']}/retention"
    return client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
