#!/usr/bin/env python3
"""Test set-up on moto: creates an IAM role with a trust policy, one inline policy, and (when given) one
managed policy attached, and (when given) a permissions boundary — the shapes `policy --check role:NAME`
reads back.

usage: iam-role.py ENDPOINT ROLE TRUST_JSON INLINE_JSON [MANAGED_JSON|"" [BOUNDARY_JSON]]
"""
import sys
import boto3

endpoint, role, trust, inline = sys.argv[1:5]
managed = sys.argv[5] if len(sys.argv) > 5 else None
boundary = sys.argv[6] if len(sys.argv) > 6 else None
iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="AKIASETUP", aws_secret_access_key="setup",
                   region_name="us-east-1")
if boundary:
    boundary_arn = iam.create_policy(PolicyName=f"{role}-boundary", PolicyDocument=boundary)["Policy"]["Arn"]
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary_arn)
else:
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=inline)
if managed:
    arn = iam.create_policy(PolicyName=f"{role}-managed", PolicyDocument=managed)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
