"""Publication dates: record fields, datelines and URLs; relative dates are never guessed."""

import pytest

from ingest.clean import clean
from ingest.dates import dateline_date, parse_date, url_date
from ingest.load import RawArticle


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "New Delhi/Tokyo, Jan 19 (NationPress) The visit… during January 15 to 17, 2026.",
            "2026-01-19",
        ),
        ("PARIS, March 3, 2024 — Ministers met.", "2024-03-03"),
        (
            "Headline\n\nWASHINGTON, Sept. 5 (Reuters) - Talks in September 2023 went on.",
            "2023-09-05",
        ),
        ("WASHINGTON, June 12 (Reuters) - No year anywhere in this story.", None),
        ("New York CNN —\n\nNo date here.", None),
    ],
)
def test_dateline_dates_take_their_year_from_the_story_or_stay_unknown(text, expected):
    assert dateline_date(text) == expected


def test_url_paths_give_dates():
    assert url_date("https://www.cnn.com/2022/06/12/media/squid-game/index.html") == "2022-06-12"
    assert url_date("https://example.com/2022/13/40/nonsense") is None
    assert url_date(None) is None


def raw(text: str, **fields) -> RawArticle:
    return RawArticle(doc_id="d", text=text, fields=fields, source_path="x.txt", title_in_text=True)


def test_a_record_date_wins_over_the_dateline_and_relative_dates_stay_unknown():
    dated = clean(
        raw("Title\nTOKYO, Jan 19 (Kyodo) In January 2026 ...", publish_date="2026/01/20")
    )
    assert dated.published_at == "2026-01-20"
    from_dateline = clean(raw("Title\nTOKYO, Jan 19 (Kyodo) In January 2026 ..."))
    assert from_dateline.published_at == "2026-01-19"
    relative = clean(raw("Title\n- 3 days ago\nA story without a dateline."))
    assert relative.published_at is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 19 Jan 2026 10:30:00 GMT", "2026-01-19"),  # RSS and e-mail headers
        ("January 19, 2026 10:30 AM", "2026-01-19"),
        ("Jan 19 2026", "2026-01-19"),
        ("Published: 19/01/2026", "2026-01-19"),
        ("01/02/2026", None),  # 1 February or 2 January: not guessed
        ("May 5", None),  # no year: not guessed
        ("Updated 5:30 PM ET", None),
        ("5 min read", None),
        ("India 2030", None),
    ],
)
def test_spelled_out_dates_are_read_and_partial_ones_are_not(text, expected):
    assert parse_date(text) == expected
