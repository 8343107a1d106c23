"""The change-set engine: deploy, diff and destroy one CloudFormation stack through boto3 clients it is given."""
