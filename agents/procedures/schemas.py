"""The JSON API's shape of a published procedure (OpenAPI at /schema)."""

from __future__ import annotations

from typing import Any

import msgspec

from agents.procedures.models import Procedure


class ProcedureOut(msgspec.Struct):
    code: str
    name: str
    field_name: str
    processing_days: int
    fee_vnd: int
    required_documents: list[str]
    form_schema: dict[str, Any]

    @classmethod
    def of(cls, p: Procedure) -> ProcedureOut:
        return cls(p.code, p.name, p.field_name, p.processing_days, p.fee_vnd, p.required_documents, p.form_schema)
