"""What a recommendation section answers: its items, or why it has none.

Every section (similar items, complete the look) answers with this one shape, on the product page
and in the API (``recommender.api.serializers.RecommendationsSerializer``), so a client reads them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Why a section is empty: "" when it is not. ``not_indexed``: the product's photo is not analysed yet;
#: ``no_complements_for_slot``: nothing is suggested with this kind of item (complete the look only);
#: ``none_available``: nothing that fits is on sale and in stock now.
EMPTY_REASONS = ("", "not_indexed", "no_complements_for_slot", "none_available")


@dataclass(frozen=True)
class Recommendations:
    items: list = field(default_factory=list)
    #: Why the list is empty: "" when it is not; else one of ``EMPTY_REASONS`` and a sentence for people.
    empty_reason: str = ""
    message: str = ""
