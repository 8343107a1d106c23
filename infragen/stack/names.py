"""Names shared by the builders, the renderer and the deploy: one definition each."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the config checks names with `camel`: it imports this module
    from infragen.config import EnvConfig

STAGE_NAME = "v1"
ARTIFACT_BUCKET_PARAMETER = "ArtifactBucket"
ARTIFACT_BUCKET_RESOURCE = "ArtifactBucket"  # logical id in the bootstrap stack
ARTIFACT_BUCKET_OUTPUT = "ArtifactBucketName"  # its output: the bucket's name
API_GATEWAY_LOG_ROLE = "ApiGatewayLoggingRole"  # bootstrap stack: API Gateway's CloudWatch role
API_GATEWAY_LOG_ROLE_OUTPUT = "ApiGatewayLoggingRoleArn"
API_GATEWAY_ACCOUNT_PARAMETER = "SetApiGatewayAccount"
WELCOME_LOG_GROUP = "/aws/apigateway/welcome"
WELCOME_LOG_GROUP_PARAMETER = "CreateWelcomeLogGroup"
VPC_RESOURCE = "Vpc"  # logical id of the main stack's VPC (`infragen harden` looks it up)
VPC_OUTPUT = "VpcId"  # its id as an output: a deploy hardens without listing the stack's resources


def camel(name: str) -> str:
    """`data_processor` → `DataProcessor`, the logical-id stem of a function."""
    return "".join(part.capitalize() for part in name.split("_"))


def function_logical_id(function: str) -> str:
    return f"{camel(function)}Function"


def table_logical_id(table: str) -> str:
    return f"{camel(table)}Table"


def table_env_var(table: str) -> str:
    """Environment variable that tells a function the name of one of the stack's tables."""
    return f"{table.upper()}_TABLE"


def key_alias(cfg: EnvConfig) -> str:
    """Alias of the stack's KMS key (the CLI encrypts secrets with it)."""
    return f"alias/{cfg.stack_name}"


def code_key_parameter(function: str) -> str:
    """Template parameter carrying the S3 key of a function's zip."""
    return f"{camel(function)}CodeKey"


def function_name(cfg: EnvConfig, function: str) -> str:
    return f"{cfg.stack_name}-{function.replace('_', '-')}"


def alarm_name_prefix(cfg: EnvConfig) -> str:
    """Every alarm this stack names starts here: the topic and key policies admit exactly these."""
    return f"{cfg.stack_name}-"


def log_group_prefix(cfg: EnvConfig) -> str:
    """Every log group this stack names starts here (the KMS key policy relies on it)."""
    return f"/infragen/{cfg.stack_name}/"


def parameter_env_var(key: str) -> str:
    """Environment variable that tells a function the name of one of its SSM parameters."""
    return f"{key.upper()}_PARAMETER"
