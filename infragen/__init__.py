"""infragen: define, review and ship a serverless AWS stack from Python."""

__version__ = "0.1.0"
