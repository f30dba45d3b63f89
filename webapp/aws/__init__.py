"""The AWS adapters: the only modules that speak to AWS, each through boto3/botocore.

``clients`` builds the clients (timeouts, retries, addressing); ``storage`` is S3 (policies,
multipart, ranged reads); ``catalog`` is the DynamoDB table; ``mailer`` is SES; ``keystore``
reads Secrets Manager and SSM; ``signing`` makes CloudFront's signed links. Importing this
package imports none of them, and none imports boto3 before its first client is made.
"""
