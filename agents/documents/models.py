"""A citizen's document, digitised at the counter (số hóa): one stored file in one slot of a draft.

The bytes live in the blob store (portal/core/blob_store.py), encrypted, named by the
SHA-256 of their plaintext; the row says whose, for which required document, and what it is.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped


class DossierDocument(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "dossier_documents"

    # The draft it was uploaded into at the counter; None for a file added to a filed dossier
    # (a supplement, the citizen's withdrawal request).
    draft_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier_drafts.id"), index=True)
    # Set when the draft is filed: the dossier the document went in with.
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    slot: Mapped[str] = mapped_column(String(80))  # the required document's code (agents/documents/slots)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40))  # by content, never by name
    size_bytes: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(200), default="")  # as uploaded, for people only
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    # Reused from an earlier dossier of the same citizen (with their consent): the same stored file,
    # named by the same content hash, never a copy. None: digitised here.
    reused_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier_documents.id"))
    # Brought for the city's n-th request for more documents (None: filed with the dossier).
    supplement_round: Mapped[int | None] = mapped_column(Integer)
    # Replaced by the files of that supplement round: kept, no longer the current version.
    replaced_in_round: Mapped[int | None] = mapped_column(Integer)
