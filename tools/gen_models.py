#!/usr/bin/env python3
"""Writes the trimmed AWS service models that understudy embeds.

Reads botocore's data/<service>/<version>/service-2.json(.gz) from the newest
importable botocore (or --botocore-data DIR), keeps what request routing,
decoding, validation and encoding need (metadata, operations, shapes,
constraints, errors) and drops documentation and examples. The build embeds
the output; it never runs this script.

    python3 tools/gen_models.py            # rewrites emulator/api/models/*.json
"""
import argparse
import gzip
import json
import os
import sys

# service directory in botocore -> operations to keep (None: all of them).
SERVICES = {
    "ecs": None,
    "elbv2": None,
    "logs": None,
    "events": None,
    "scheduler": None,
    "ses": None,
    "sesv2": None,
    "application-autoscaling": None,
    "cloudwatch": None,
    "servicediscovery": None,
    "fis": None,
    # EC2 is vast; understudy stores only the networking resources ALB and ECS
    # flows reference.
    "ec2": [
        "CreateVpc", "DescribeVpcs", "DeleteVpc", "CreateSubnet", "DescribeSubnets",
        "DeleteSubnet", "CreateSecurityGroup", "DescribeSecurityGroups",
        "DeleteSecurityGroup", "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress", "DescribeSecurityGroupRules",
        "DescribeAvailabilityZones", "DescribeAccountAttributes", "CreateTags",
        "DeleteTags", "DescribeTags", "CreateDefaultVpc", "DescribeRegions",
    ],
}

METADATA_KEYS = [
    "apiVersion", "protocol", "protocols", "targetPrefix", "jsonVersion",
    "signingName", "endpointPrefix", "serviceId", "xmlNamespace", "uid",
]
OPERATION_KEYS = ["name", "http", "input", "output", "errors", "endpoint"]
# Shape and member keys that matter on the wire or for validation.
DROP_KEYS = {"documentation", "documentationUrl", "deprecated", "deprecatedMessage",
             "examples", "box", "wrapper", "union_doc", "sensitive", "contextParam",
             "tags", "deprecatedSince", "authtype", "auth", "staticContextParams",
             "requestcompression", "httpChecksum", "endpointdiscovery",
             "requestChecksumRequired", "idempotent", "retryable"}


def botocore_data_dir():
    import botocore
    return os.path.join(os.path.dirname(botocore.__file__), "data"), botocore.__version__


def newest_model(data_dir, service):
    base = os.path.join(data_dir, service)
    version = sorted(os.listdir(base))[-1]
    path = os.path.join(base, version, "service-2.json")
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def strip(value, names=False):
    """Drops documentation keys; `names` marks a dict keyed by member names."""
    if isinstance(value, dict):
        if names:
            return {k: strip(v) for k, v in value.items()}
        return {k: strip(v, names=(k == "members")) for k, v in value.items()
                if k not in DROP_KEYS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def referenced_shapes(model, operations):
    shapes = model["shapes"]
    seen = set()
    stack = []
    for op in operations.values():
        for key in ("input", "output"):
            if key in op:
                stack.append(op[key]["shape"])
        for err in op.get("errors", []):
            stack.append(err["shape"])
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        for member in shape.get("members", {}).values():
            stack.append(member["shape"])
        for key in ("member", "key", "value"):
            if key in shape:
                stack.append(shape[key]["shape"])
    return seen


def trim(model, keep_ops, botocore_version):
    ops = model["operations"]
    if keep_ops is not None:
        ops = {name: ops[name] for name in keep_ops}
    out_ops = {}
    for name, op in sorted(ops.items()):
        out_ops[name] = strip({k: v for k, v in op.items() if k in OPERATION_KEYS})
    names = referenced_shapes(model, out_ops)
    shapes = {name: strip(model["shapes"][name]) for name in sorted(names)}
    meta = {k: model["metadata"][k] for k in METADATA_KEYS if k in model["metadata"]}
    meta.setdefault("signingName", meta.get("endpointPrefix"))
    meta.setdefault("protocols", [meta["protocol"]])
    meta["botocoreVersion"] = botocore_version
    return {"metadata": meta, "operations": out_ops, "shapes": shapes}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--botocore-data", help="botocore's data directory")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "emulator", "api", "models"))
    args = parser.parse_args()
    if args.botocore_data:
        data_dir, version = args.botocore_data, "unknown"
    else:
        data_dir, version = botocore_data_dir()
    os.makedirs(args.out, exist_ok=True)
    index = {}
    for service, keep in SERVICES.items():
        trimmed = trim(newest_model(data_dir, service), keep, version)
        # The index lets the front door route without parsing every model.
        index[service] = dict(trimmed["metadata"])
        index[service]["operations"] = {
            name: {"method": op["http"]["method"], "requestUri": op["http"]["requestUri"]}
            for name, op in trimmed["operations"].items()}
        path = os.path.join(args.out, service + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(trimmed, f, indent=None, separators=(",", ":"), sort_keys=True)
            f.write("\n")
        print(f"{path}: {len(trimmed['operations'])} operations, "
              f"{len(trimmed['shapes'])} shapes (botocore {version})")
    with open(os.path.join(args.out, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
