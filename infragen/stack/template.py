"""A troposphere Template that reports CloudFormation's limits and name clashes as config errors."""

from __future__ import annotations

from collections import Counter

from troposphere import Template

from infragen.errors import ConfigError

# CloudFormation quotas per template (AWS: "CloudFormation quotas").
MAX_RESOURCES = 500
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200


class StackTemplate(Template):
    """Counts freely (troposphere raises a bare ValueError at its limits); `check_limits` judges."""

    def add_resource(self, resource):
        return self._update(self.resources, resource)

    def add_parameter(self, parameter):
        return self._update(self.parameters, parameter)

    def add_output(self, output):
        return self._update(self.outputs, output)

    def handle_duplicate_key(self, key):
        raise ConfigError(f"two things in infragen.toml become the CloudFormation logical id {key!r}",
                          hint="rename one of the functions, tables or routes that map to it")


def check_limits(t: Template, env: str) -> None:
    """Exit-2 error naming the environment, the count and where the resources go."""
    for section, items, limit in (("resources", t.resources, MAX_RESOURCES),
                                  ("parameters", t.parameters, MAX_PARAMETERS),
                                  ("outputs", t.outputs, MAX_OUTPUTS)):
        if len(items) > limit:
            where = ""
            if section == "resources":
                kinds = Counter(r.resource_type for r in items.values()).most_common(6)
                where = " (" + ", ".join(f"{n} {kind}" for kind, n in kinds) + ", …)"
            raise ConfigError(
                f"environment {env!r}: the stack has {len(items)} {section}, over CloudFormation's "
                f"limit of {limit} per template{where}",
                hint="split the app into several infragen projects (one stack each), or declare "
                     "fewer functions and routes")
