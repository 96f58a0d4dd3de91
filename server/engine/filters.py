"""Filters on what a question may be answered from: documents, source, publication dates."""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ingest import index
from ingest.dates import date_number

if TYPE_CHECKING:  # llama-index and bm25s take seconds to import: `dossier ask --url` needs neither
    from llama_index.core.vector_stores import MetadataFilters

    from ingest.sparse import PassageTable

# The comparisons, named by llama-index's FilterOperator values, as numpy applies them to a column.
COMPARISONS: dict[str, Callable] = {
    "in": np.isin,
    "==": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
}


@dataclass(frozen=True)
class SearchFilters:
    """Restrict retrieval; an article without a known date never matches a date range."""

    doc_ids: tuple[str, ...] = ()
    source: str | None = None
    published_from: date | None = None
    published_to: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.doc_ids or self.source or self.published_from or self.published_to)

    def _conditions(self) -> list[tuple[str, str, object]]:
        conditions = []
        if self.doc_ids:
            conditions.append((index.DOC_ID, "in", list(self.doc_ids)))
        if self.source:
            conditions.append((index.SOURCE, "==", self.source))
        if self.published_from:
            conditions.append(
                (
                    index.PUBLISHED_ON,
                    ">=",
                    date_number(self.published_from.isoformat()),
                )
            )
        if self.published_to:
            conditions.append(
                (index.PUBLISHED_ON, "<=", date_number(self.published_to.isoformat()))
            )
        if self.published_from or self.published_to:
            conditions.append((index.PUBLISHED_ON, ">", 0))  # unknown dates are stored as 0
        return conditions

    def metadata_filters(self) -> "MetadataFilters | None":
        """The filters for Chroma, through llama-index's vector store."""
        if not self.active:
            return None
        from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

        return MetadataFilters(
            filters=[
                MetadataFilter(key=key, operator=FilterOperator(op), value=value)
                for key, op, value in self._conditions()
            ]
        )

    def mask(self, table: "PassageTable") -> np.ndarray | None:
        """The same filters over the BM25 index's passages: True where a passage may be returned."""
        if not self.active:
            return None
        columns = {
            index.DOC_ID: table.doc_ids,
            index.SOURCE: table.sources,
            index.PUBLISHED_ON: table.published_on,
        }
        keep = np.ones(len(table.ids), dtype=bool)
        for key, op, value in self._conditions():
            keep &= COMPARISONS[op](columns[key], value)
        return keep
