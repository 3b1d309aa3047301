#!/usr/bin/env python3
"""Checks generated IAM policies against AWS's own action/resource catalogue (the one `parliament`
ships) and with parliament's linter. Usage: check-policy.py identity|trust FILE...

identity: every action exists, every Resource matches an ARN format of a resource type the catalogue
  gives for that action (or is "*" where the action has no resource type), and parliament reports nothing.
trust: the Federated principal has the catalogue's oidc-provider ARN format and the action exists.
  Parliament lints identity policies only; on a trust policy it always reports two things that are
  not defects: a statement without Resource (trust policies have none) and an OIDC provider it does not
  know (its federation check knows SAML and four web identity providers). Those two, and nothing
  else, are expected there.
Prints each problem and exits 1 if there is any.
"""
import json, re, sys
import parliament
from parliament import analyze_policy_string

catalogue = {s["prefix"]: s for s in parliament.iam_definition}


def arn_regex(template):
    parts = re.split(r"(\$\{[^}]+\})", template)
    return re.compile("^" + "".join("[^:]+" if p.startswith("${") and p != "${RepositoryName}" else
                                    ".+" if p == "${RepositoryName}" else re.escape(p) for p in parts) + "$")


def privilege(action):
    prefix, name = action.split(":", 1)
    service = catalogue.get(prefix)
    for p in (service or {}).get("privileges", []):
        if p["privilege"] == name:
            return service, p
    return service, None


def check_identity(doc, problems):
    for stmt in doc["Statement"]:
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        for action in actions:
            service, priv = privilege(action)
            if priv is None:
                problems.append(f"{action}: not in the catalogue")
                continue
            types = [t["resource_type"].rstrip("*") for t in priv["resource_types"] if t["resource_type"]]
            formats = [r["arn"] for r in service["resources"] if r["resource"] in types]
            for resource in resources:
                if not types:
                    if resource != "*":
                        problems.append(f"{action}: has no resource type, so its Resource must be *, not {resource}")
                elif not any(arn_regex(f).match(resource) for f in formats):
                    problems.append(f"{action}: {resource} is not a {types} ARN ({formats})")


def check_trust(doc, problems):
    iam = catalogue["iam"]
    fmt = [r["arn"] for r in iam["resources"] if r["resource"] == "oidc-provider"][0]
    for stmt in doc["Statement"]:
        if privilege(stmt["Action"])[1] is None:
            problems.append(f"{stmt['Action']}: not in the catalogue")
        federated = stmt["Principal"]["Federated"]
        if not arn_regex(fmt).match(federated):
            problems.append(f"{federated} is not an oidc-provider ARN ({fmt})")


EXPECTED_ON_TRUST = {"MALFORMED", "UNKNOWN_FEDERATION_SOURCE"}

if __name__ == "__main__":
    kind, files = sys.argv[1], sys.argv[2:]
    problems = []
    for path in files:
        text = open(path).read()
        doc = json.loads(text)
        found = []
        (check_identity if kind == "identity" else check_trust)(doc, found)
        findings = analyze_policy_string(text).findings
        for f in findings:
            if kind == "trust" and f.issue in EXPECTED_ON_TRUST:
                continue
            found.append(f"parliament {f.issue}: {f.detail}")
        problems += [f"{path}: {p}" for p in found]
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
