#!/usr/bin/env python3
"""Test set-up on the IAM-enforcing moto: creates an IAM user whose only permissions are the given
actions on Resource "*" (moto evaluates ECR calls against "*" only), prints its access key ID and
secret, and creates the given repositories first. Enforcement must be off while this runs.

usage: iam-user.py ENDPOINT USER "ecr:A ecr:B …" [REPOSITORY …]
"""
import json, sys
import boto3

endpoint, user, actions, repositories = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
kw = dict(endpoint_url=endpoint, aws_access_key_id="AKIASETUP", aws_secret_access_key="setup", region_name="us-east-1")
iam, ecr = boto3.client("iam", **kw), boto3.client("ecr", **kw)
iam.create_user(UserName=user)
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
iam.put_user_policy(UserName=user, PolicyName="only-these", PolicyDocument=json.dumps(policy))
key = iam.create_access_key(UserName=user)["AccessKey"]
for name in repositories:
    ecr.create_repository(repositoryName=name)
print(key["AccessKeyId"], key["SecretAccessKey"])
