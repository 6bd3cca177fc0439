"""CITATION.cff is valid Citation File Format 1.2.0 and names the version installed.

The schema is the official CFF 1.2.0 JSON schema, copied unchanged from the ``cffconvert`` 2.0.0 package
(``cffconvert/schemas/1.2.0/schema.json``) into tests/data: cffconvert itself is not a test dependency
because it pins jsonschema < 4, which conflicts with JupyterLab 4 (the ``notebooks`` extra).
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).parent / "data" / "cff-1.2.0-schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest().startswith("0b8d22140da702d7")  # as shipped
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_citation_file_is_valid_cff_1_2(validator):
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(citation)) == []
    assert citation["cff-version"] == "1.2.0" and citation["version"] == version("orgsim")


@pytest.mark.parametrize(("change", "error"), [
    (lambda c: c.pop("authors"), "'authors' is a required property"),
    (lambda c: c.update({"cff-version": "1.1.0"}), "'1.1.0' does not match"),
    (lambda c: c.update({"license": "MIT-ish"}), "'MIT-ish' is not valid"),
    (lambda c: c.update({"titel": "typo"}), "Additional properties are not allowed"),
])
def test_the_check_refuses_invalid_citation_files(validator, change, error):
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    change(citation)
    assert any(error in e.message for e in validator.iter_errors(citation))
