"""`infragen serve`: the REST API on this machine, answering as API Gateway would."""
