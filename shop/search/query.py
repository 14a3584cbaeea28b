"""Catalog search in PostgreSQL: the query's words read as terms (:mod:`shop.search.vocabulary`),
matched against what the shop measured, and ranked.

* A garment word ("jeans", "sneakers", "jumper") matches the categories it names, or a category
  whose name holds the word.
* A colour word ("black", "burgundy", "maroon") matches the garment's measured colours (the
  family of its main colour, ``Product.colour``, and the names in ``Product.colours``), never the
  product name: "Denim" in a shoe's name is a shade, not a fabric. A product whose colour is not
  measured falls back to its name.
* A fabric word ("denim") needs both: a kind of garment made of it, in its colours.
* A pattern word ("striped", "floral") matches the measured pattern or the name.
* Any other word (a brand, a word of a name) is full text over name, category, colour names,
  pattern and brand (English stemming), or trigram word similarity for typos. A word close to
  the vocabulary ("jeens") also matches as the term it is close to (pg_trgm ``similarity``).

Every word must match. The rank adds up how well: a category word matched by category, a colour
word matched by the main colour (a second colour counts less), the pattern, then the full-text
rank, so "black dress" lists black dresses first, then dresses with black in them.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Lower

from shop.search.vocabulary import Term, colour_families, colour_names, known_slugs, parse, vocabulary, words

SEARCH_CONFIG = "english"
TYPO_MIN_LENGTH = 4  # shorter words have too few trigrams to tell a typo from another word
TYPO_SIMILARITY = 0.4  # trigram word similarity of a word to the catalog's own text
TERM_SIMILARITY = 0.3  # trigram similarity of a word to a vocabulary term ("jeens" ~ "jeans": 0.33)
SUGGESTION_SIMILARITY = 0.25
SECOND_COLOUR_WEIGHT = 0.4
PREFER_WEIGHT = 0.3


class _ColourNamesText(Func):
    """The product's colour names as text (``["navy", "sand"]``), for the search document."""

    template = "COALESCE(jsonb_path_query_array(%(expressions)s, '$[*].name')::text, '')"
    output_field = TextField()


def _stop_words(candidates: list[str]) -> set[str]:
    """Words that PostgreSQL's English dictionary drops ("the", "with"): they match everything."""
    if not candidates:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w FROM unnest(%s::text[]) AS w WHERE numnode(plainto_tsquery(%s::regconfig, w)) = 0",
            [candidates, SEARCH_CONFIG],
        )
        return {row[0] for row in cursor.fetchall()}


def similar_terms(candidates: list[str], *, threshold: float, per_word: int = 1) -> dict[str, list[str]]:
    """For each word, the vocabulary phrases closest to it by pg_trgm similarity (best first)."""
    candidates = [w for w in candidates if len(w) >= TYPO_MIN_LENGTH]
    if not candidates:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w, t FROM ("
            "  SELECT w, t, row_number() OVER (PARTITION BY w ORDER BY similarity(w, t) DESC, t) AS n"
            "  FROM unnest(%s::text[]) AS w CROSS JOIN unnest(%s::text[]) AS t"
            "  WHERE w <> t AND similarity(w, t) >= %s"
            ") ranked WHERE n <= %s ORDER BY w, n",
            [candidates, sorted(vocabulary()), threshold, per_word],
        )
        found: dict[str, list[str]] = {}
        for word, term in cursor.fetchall():
            found.setdefault(word, []).append(term)
        return found


def _text_match(word: str) -> Q:
    return Q(search_document=SearchQuery(word, config=SEARCH_CONFIG))


def _colour_match(term: Term) -> tuple[Q, Q]:
    """(the garment has the colour at all, its main colour is it)."""
    names, families = colour_names(term.colours), colour_families(term.colours)
    main = Q(colour__in=families) | Q(colours__0__name__in=names)
    anywhere = main
    for name in names:
        anywhere |= Q(colours__contains=[{"name": name}])
    return anywhere | (Q(colours=[]) & _text_match(term.word)), main


def _category_match(term: Term) -> Q:
    """The term's categories, or one of the shop's own categories (not in the vocabulary) named by it."""
    named = Q(category_document=SearchQuery(term.word, config=SEARCH_CONFIG)) & ~Q(category__slug__in=known_slugs())
    return Q(category__slug__in=term.categories) | named


def _score(condition: Q, weight: float = 1.0) -> Case:
    return Case(When(condition, then=Value(weight)), default=Value(0.0), output_field=FloatField())


def _term_match(term: Term) -> tuple[Q, list]:
    """What a product needs to match one term, and what it adds to the rank."""
    scores: list = []
    match = Q()
    if term.categories:
        category = Q(category__slug__in=term.categories) if term.is_fabric else _category_match(term)
        match &= category
        scores.append(_score(Q(category__slug__in=term.categories)))
    if term.colours:
        anywhere, main = _colour_match(term)
        match &= anywhere
        scores += [_score(main), _score(anywhere & ~main, SECOND_COLOUR_WEIGHT)]
    if term.pattern:
        match &= Q(pattern=term.pattern) | _text_match(term.word)
        scores.append(_score(Q(pattern=term.pattern)))
    if term.prefer:
        _, preferred = _colour_match(Term(term.word, colours=term.prefer))
        scores.append(_score(preferred, PREFER_WEIGHT))
    return match, scores


def search(qs: QuerySet, q: str) -> QuerySet:
    """``qs`` narrowed to the products matching ``q``, annotated with ``search_rank``."""
    parsed = parse(q)
    stop = _stop_words(list(parsed.free_words))
    free = [w for w in parsed.free_words if w not in stop]
    if not parsed.terms and not parsed.free_words:  # only punctuation or symbols: nothing to look for
        return qs.none().annotate(search_rank=Value(0.0, output_field=FloatField()))
    if not parsed.terms and not free:  # only stop words: they hide nothing
        return qs.annotate(search_rank=Value(0.0, output_field=FloatField()))
    typos = similar_terms(free, threshold=TERM_SIMILARITY)
    terms = vocabulary()

    annotations = {
        "search_document": (
            SearchVector("name", weight="A", config=SEARCH_CONFIG)
            + SearchVector("category__name", weight="A", config=SEARCH_CONFIG)
            + SearchVector(_ColourNamesText("colours"), weight="A", config=SEARCH_CONFIG)
            + SearchVector("colour", "pattern", weight="B", config=SEARCH_CONFIG)
            + SearchVector("brand", weight="B", config=SEARCH_CONFIG)
        ),
        "category_document": SearchVector("category__name", config=SEARCH_CONFIG),
        "search_text": Lower(
            Concat("name", Value(" "), "category__name", Value(" "), "brand", output_field=TextField())
        ),
    }
    match = Q()
    scores: list = []
    garments = [t for t in parsed.terms if t.is_garment]
    if garments:  # "jeans jacket" or "top tee": any of the kinds named
        either = Q()
        for term in garments:
            either |= _category_match(term)
        match &= either
        slugs = sorted({slug for t in garments for slug in t.categories})
        scores.append(_score(Q(category__slug__in=slugs)))
        for term in garments:
            if term.prefer:
                scores += _term_match(Term(term.word, prefer=term.prefer))[1]
    for term in parsed.terms:
        if term.is_garment:
            continue
        term_match, term_scores = _term_match(term)
        match &= term_match
        scores += term_scores

    rank: Expression = Value(0.0, output_field=FloatField())
    if free:
        any_word = SearchQuery(free[0], config=SEARCH_CONFIG)
        for word in free[1:]:
            any_word |= SearchQuery(word, config=SEARCH_CONFIG)
        rank = Coalesce(SearchRank(F("search_document"), any_word), 0.0)
    for i, word in enumerate(free):
        word_match = _text_match(word)
        if len(word) >= TYPO_MIN_LENGTH:
            annotations[f"search_sim_{i}"] = TrigramWordSimilarity(Value(word), "search_text")  # type: ignore[arg-type]
            word_match |= Q(**{f"search_sim_{i}__gte": TYPO_SIMILARITY})
            rank = rank + 0.1 * F(f"search_sim_{i}")
        if word in typos:  # "jeens": also as the term it is close to
            typo_match, typo_scores = _term_match(terms[typos[word][0]])
            word_match |= typo_match
            scores += typo_scores
        match &= word_match
    for score in scores:
        rank = rank + score
    token = "".join(words(q))
    return (
        qs.annotate(**annotations)
        .filter(match | Q(sku__iexact=token) | Q(sku__iexact=q.strip().replace("\x00", "")))
        .annotate(search_rank=ExpressionWrapper(rank, output_field=FloatField()))
    )


def suggestions(q: str, *, available, limit: int = 4) -> list[str]:
    """Queries close to ``q`` that find something: each word swapped for a vocabulary word or a
    category name near it (trigram similarity), or, for a query of several words, the single
    words that do find something. ``available(query)`` says whether a query finds products."""
    tokens = words(q)
    candidates: list[str] = []
    close = similar_terms(tokens, threshold=SUGGESTION_SIMILARITY, per_word=3)
    for i, word in enumerate(tokens):
        for term in close.get(word, []):
            candidates.append(" ".join([*tokens[:i], term, *tokens[i + 1 :]]))
    if len(tokens) > 1:
        candidates += tokens
    found: list[str] = []
    for candidate in dict.fromkeys(candidates):
        if candidate != " ".join(tokens) and available(candidate):
            found.append(candidate)
        if len(found) >= limit:
            break
    return found
