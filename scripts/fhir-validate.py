#!/usr/bin/env python3
"""Checks a FHIR R4 (4.0.1) Bundle with an implementation that is not ours: the
`fhir.resources` models (structure, cardinality, datatypes, primitive formats), the
required-binding codes those models carry (`enum_values`, from the R4 specification),
and that every relative reference resolves inside the Bundle.

Usage: fhir-validate.py BUNDLE.json   (exit 0 when valid; problems on stderr)
"""
import json
import sys

from fhir.resources import __fhir_version__
from fhir.resources.bundle import Bundle
from pydantic import BaseModel


def code_problems(model, path):
    """Codes outside the value set a required binding names."""
    for name, field in model.__fields__.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        allowed = field.field_info.extra.get("enum_values")
        where = f"{path}.{field.alias}"
        # A list ending in "+" is abbreviated by the models: it cannot be checked.
        if allowed and "+" not in allowed and isinstance(value, str) and value not in allowed:
            yield f"{where}: '{value}' is not one of {allowed}"
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, BaseModel):
                yield from code_problems(item, f"{where}[{index}]" if isinstance(value, list) else where)


def references(value):
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            yield ref
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def main(path):
    assert __fhir_version__ == "4.0.1", f"fhir.resources models FHIR {__fhir_version__}, not R4"
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    problems = []
    try:
        bundle = Bundle.parse_obj(raw)
    except Exception as e:  # the models' own report, element by element
        print(f"{path}: not a valid FHIR R4 Bundle:\n{e}", file=sys.stderr)
        return 1
    problems.extend(code_problems(bundle, "Bundle"))
    present = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in raw.get("entry", [])
        if "id" in e.get("resource", {})
    }
    for ref in set(references(raw.get("entry", []))):
        if "://" not in ref and not ref.startswith(("urn:", "#")) and ref not in present:
            problems.append(f"reference {ref} does not resolve in the Bundle")
    if problems:
        print(f"{path}: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    kinds = sorted({e["resource"]["resourceType"] for e in raw.get("entry", [])})
    print(f"{path}: valid FHIR R4 Bundle, {len(raw.get('entry', []))} resources ({', '.join(kinds)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
