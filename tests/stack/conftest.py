import json

import pytest

from infragen.config import load_config
from infragen.render import bootstrap_template, stack_template
from tests.stack.helpers import ROOT


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "infragen.toml")


@pytest.fixture(scope="session", params=["dev", "prod"])
def env_cfg(request, config):
    return config.env(request.param)


@pytest.fixture(scope="session")
def template(env_cfg):
    return json.loads(stack_template(env_cfg))


@pytest.fixture(scope="session")
def bootstrap(config):
    [settings] = {cfg.bootstrap for cfg in config.envs}
    return json.loads(bootstrap_template(settings))
