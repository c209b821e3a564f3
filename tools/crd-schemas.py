"""JSON schemas for kubeconform from CustomResourceDefinitions, and a splitter for rendered
manifests (tools/validate-deploy.sh, test/deploy/validators.test.ts).

  crd-schemas.py generate OUTDIR CRD.yaml...   one schema per served version:
      OUTDIR/<group>/<kind>_<version>.json (kind lower-case), strict: an object that lists
      its properties gets additionalProperties: false (as kubeconform's -strict schemas of
      Kubernetes do), unless the CRD lets it keep unknown fields.
  crd-schemas.py split OUTDIR IN CUSTOM CORE   the documents of IN whose schema OUTDIR has go
      to CUSTOM, the others to CORE (for kubernetes-validate).
Runs on tools/.venv's Python (PyYAML comes with kubernetes-validate).
"""
import json
import os
import sys

import yaml


def strict(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("enum", "default", "example"):
                strict(value)
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
    elif isinstance(node, list):
        for item in node:
            strict(item)
    return node


def schema_path(outdir, api_version, kind):
    group, _, version = api_version.rpartition("/")
    return os.path.join(outdir, group or "core", f"{kind.lower()}_{version}.json")


def generate(outdir, files):
    for file in files:
        with open(file) as f:
            for crd in yaml.safe_load_all(f):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                for version in spec["versions"]:
                    if not version.get("served"):
                        continue
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    api_version = f"{spec['group']}/{version['name']}"
                    path = schema_path(outdir, api_version, spec["names"]["kind"])
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "w") as out:
                        json.dump(schema, out)
                    print(f"{api_version} {spec['names']['kind']} -> {path}", file=sys.stderr)


def split(outdir, source, custom, core):
    with open(source) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    mine = [d for d in docs if os.path.exists(schema_path(outdir, d["apiVersion"], d["kind"]))]
    rest = [d for d in docs if d not in mine]
    for path, part in ((custom, mine), (core, rest)):
        with open(path, "w") as out:
            yaml.safe_dump_all(part, out, sort_keys=False)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "generate":
        generate(args[0], args[1:])
    elif command == "split":
        split(*args)
    else:
        sys.exit(f"unknown command {command}")
