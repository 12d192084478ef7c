"""The JSON API's shape of a published procedure (OpenAPI at /schema)."""

from __future__ import annotations

from typing import Any

import msgspec

from agents.procedures.models import Procedure


class RequiredDocumentOut(msgspec.Struct):
    name: str
    original: bool  # true: the original; false: a copy
    mandatory: bool
    count: int


class ProcedureOut(msgspec.Struct):
    """The version in force today (`version`); a dossier is shown by the version it was filed under."""

    code: str
    name: str
    field_name: str
    processing_days: int
    fee_vnd: int
    required_documents: list[RequiredDocumentOut]
    form_schema: dict[str, Any]
    version: int

    @classmethod
    def of(cls, p: Procedure) -> ProcedureOut:
        v = p._now()
        documents = [RequiredDocumentOut(**d) for d in v.required_documents]
        return cls(p.code, v.name, v.field_name, v.processing_days, v.fee_vnd, documents, v.form_schema, v.number)
