"""One exception family; the CLI turns it into a message and an exit code in one place."""

from __future__ import annotations

# Documented exit codes (README "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed (deploy failed, lint findings, stale templates)
EXIT_USAGE = 2  # bad input: config, options, files
EXIT_AWS = 3  # AWS refused or is unreachable: credentials, permissions, throttling beyond retries
EXIT_ABORTED = 4  # the user declined, or a prompt was needed without a terminal
EXIT_TIMEOUT = 5  # a bounded wait ran out; the operation may still be running on AWS
EXIT_INTERRUPTED = 130  # Ctrl-C


class InfragenError(Exception):
    """Base of every error infragen reports to the user."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class ConfigError(InfragenError):
    """The config file or a command-line value is invalid."""

    exit_code = EXIT_USAGE


class UsageError(InfragenError):
    """A command was called in a way that cannot work (missing file, bad combination)."""

    exit_code = EXIT_USAGE


class AwsError(InfragenError):
    """An AWS call failed in a way the user must act on."""

    exit_code = EXIT_AWS


class DeployFailed(InfragenError):
    """CloudFormation reported a failed operation."""

    exit_code = EXIT_FAILED


class Aborted(InfragenError):
    """The user declined, or confirmation was needed and could not be asked."""

    exit_code = EXIT_ABORTED


class WaitTimeout(InfragenError):
    """A bounded wait ran out before the operation finished."""

    exit_code = EXIT_TIMEOUT


class Interrupted(InfragenError):
    """Ctrl-C stopped infragen; any operation already started continues on AWS."""

    exit_code = EXIT_INTERRUPTED
