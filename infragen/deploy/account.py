"""The bootstrap stack's API Gateway account setting: parameters that make it wait for its role.

The setting (AWS::ApiGateway::Account) is made only once its role exists in the deployed
bootstrap stack: API Gateway validates the role when the setting is made, and IAM changes take
time to become visible everywhere (IAM User Guide, "Changes that I make are not always immediately
visible"). A first deploy therefore creates the role, then updates the stack again to set it.
`/aws/apigateway/welcome` is created by the stack unless it already exists outside it (an account
where the setting was made before): then the deploy sets its retention instead.
"""

from __future__ import annotations

from infragen.config import EnvConfig
from infragen.console import Console
from infragen.deploy.aws_errors import aws_errors
from infragen.stack.names import (
    API_GATEWAY_ACCOUNT_PARAMETER,
    API_GATEWAY_LOG_ROLE,
    WELCOME_LOG_GROUP,
    WELCOME_LOG_GROUP_PARAMETER,
)

WELCOME_LOG_GROUP_RESOURCE = "ApiGatewayWelcomeLogGroup"


def bootstrap_parameters(clients, cfg: EnvConfig, resolve, console: Console) -> dict[str, str]:
    """Template parameters for this deploy of the bootstrap stack (none when it does not manage
    the setting). `resolve` maps the deployed stack's logical ids to physical ids."""
    if not cfg.bootstrap.manage_api_gateway_account:
        return {}
    role_ready = resolve(API_GATEWAY_LOG_ROLE) is not None
    create_welcome = resolve(WELCOME_LOG_GROUP_RESOURCE) is not None or not _welcome_exists(clients)
    if not create_welcome:
        days = cfg.bootstrap.log_retention_days
        with aws_errors(f"Setting the retention of {WELCOME_LOG_GROUP}"):
            clients.logs.put_retention_policy(logGroupName=WELCOME_LOG_GROUP, retentionInDays=days)
        console.echo(f"{WELCOME_LOG_GROUP} exists outside the stack {cfg.bootstrap_stack}: "
                     f"its retention is set to {days} days")
    return {API_GATEWAY_ACCOUNT_PARAMETER: "true" if role_ready else "false",
            WELCOME_LOG_GROUP_PARAMETER: "true" if create_welcome else "false"}


def second_pass(cfn, cfg: EnvConfig, parameters: dict[str, str],
                console: Console) -> dict[str, str] | None:
    """The parameters of a second update when the first created the role without setting the
    account to it, and the role now exists; else None. Part of the bootstrap deploy the user
    already agreed to, so the caller applies it without asking again."""
    from infragen.function_env import stack_resolver

    if parameters.get(API_GATEWAY_ACCOUNT_PARAMETER) != "false":
        return None
    role = stack_resolver(cfn, cfg.bootstrap_stack)(API_GATEWAY_LOG_ROLE)
    if role is None:
        return None
    console.echo(f"Setting API Gateway's CloudWatch role in {cfg.region} to {role} (a second "
                 f"update of {cfg.bootstrap_stack}, now that the role exists)")
    return {**parameters, API_GATEWAY_ACCOUNT_PARAMETER: "true"}


def _welcome_exists(clients) -> bool:
    with aws_errors(f"Looking for the log group {WELCOME_LOG_GROUP}"):
        groups = clients.logs.describe_log_groups(logGroupNamePrefix=WELCOME_LOG_GROUP)["logGroups"]
    return any(g["logGroupName"] == WELCOME_LOG_GROUP for g in groups)
