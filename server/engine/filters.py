"""Filters on what a question may be answered from: documents, source, publication dates."""

from dataclasses import dataclass
from datetime import date

import numpy as np
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from ingest import index
from ingest.dates import date_number
from ingest.sparse import PassageTable


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

    def _conditions(self) -> list[tuple[str, FilterOperator, object]]:
        conditions = []
        if self.doc_ids:
            conditions.append((index.DOC_ID, FilterOperator.IN, list(self.doc_ids)))
        if self.source:
            conditions.append((index.SOURCE, FilterOperator.EQ, self.source))
        if self.published_from:
            conditions.append(
                (
                    index.PUBLISHED_ON,
                    FilterOperator.GTE,
                    date_number(self.published_from.isoformat()),
                )
            )
        if self.published_to:
            conditions.append(
                (index.PUBLISHED_ON, FilterOperator.LTE, date_number(self.published_to.isoformat()))
            )
        if self.published_from or self.published_to:
            conditions.append(
                (index.PUBLISHED_ON, FilterOperator.GT, 0)
            )  # unknown dates are stored as 0
        return conditions

    def metadata_filters(self) -> MetadataFilters | None:
        """The filters for Chroma, through llama-index's vector store."""
        if not self.active:
            return None
        return MetadataFilters(
            filters=[
                MetadataFilter(key=key, operator=op, value=value)
                for key, op, value in self._conditions()
            ]
        )

    def mask(self, table: PassageTable) -> np.ndarray | None:
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
            column = columns[key]
            if op is FilterOperator.IN:
                keep &= np.isin(column, value)
            elif op is FilterOperator.EQ:
                keep &= column == value
            elif op is FilterOperator.GTE:
                keep &= column >= value
            elif op is FilterOperator.LTE:
                keep &= column <= value
            elif op is FilterOperator.GT:
                keep &= column > value
        return keep
