"""The SDK data serve's handlers fork with: parsed once in the server, shared by every worker."""

from __future__ import annotations


def handler_services(cfg) -> list[str]:
    """The services the functions' roles let their code call (IAM prefixes, which are also the SDK's
    names for these): the error topic's SNS for every function, SSM for parameters, DynamoDB for
    tables, and each `access` grant's services."""
    services = {"sns"}
    for fn in cfg.functions:
        services.update(["ssm"] if fn.parameters else [])
        services.update(["dynamodb"] if fn.table_names else [])
        services.update(action.partition(":")[0] for grant in fn.access for action in grant.actions)
    return sorted(services)


def share_sdk_models(clients, services) -> None:
    """Give handlers, which fork from this process, SDK data already parsed: boto3's default session
    shares the target session's data loader (endpoints, partitions, the models serve itself loaded)
    and the models of `services` are loaded into it. Models only: no credentials, region or endpoint
    are resolved here; each handler's environment decides those."""
    import boto3
    import botocore.session

    loader = clients.session._session.get_component("data_loader")
    core = botocore.session.get_session()
    core.register_component("data_loader", loader)
    boto3.setup_default_session(botocore_session=core)
    for service in services:
        for kind in ("service-2", "endpoint-rule-set-1"):
            try:
                loader.load_service_model(service, kind)
            except Exception:  # an IAM prefix the SDK names otherwise (or lacks): nothing to load
                pass
    for data in ("endpoints", "partitions", "sdk-default-configuration"):
        loader.load_data(data)
