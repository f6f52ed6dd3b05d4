"""Keyword selection: quality on real Inspec abstracts, taxonomy mapping, languages, deduplication.

No database: the management command is exercised with explicit tags (``--tag`` / ``--no-taxonomy``).
"""

import importlib.util
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.datasets import KEYPHRASES, require
from wagtail_smarttags.ml.text import Keyword, extract_keywords, guess_language, keywords_for_file
from wagtail_smarttags.ml.text import embeddings as text_embeddings
from wagtail_smarttags.ml.text.keywords import generate_candidates, phrase_breakers, split_sentences, taxonomy_key
from wagtail_smarttags.ml.text.language import stopwords

BENCH_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "keywords.py"

GARDENING = (
    "Rooftop gardens in dense cities. Rooftop gardens cool buildings in summer and retain rainwater. "
    "Urban farmers grow tomatoes and herbs in raised beds on flat roofs. A rooftop garden needs a "
    "waterproof membrane, a drainage layer and light soil. Cities offer grants for green roofs because "
    "green roofs reduce stormwater runoff and urban heat islands."
)
FRENCH = (
    "Les panneaux solaires installés sur les toits des écoles réduisent la facture d'électricité. "
    "La commune a financé les panneaux solaires avec une subvention régionale pour la transition "
    "énergétique. Les élèves suivent la production d'énergie solaire sur un écran dans le hall de l'école."
)


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_keywords", BENCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Quality on real data ----------------------------------------------------------------------


def test_beats_plain_rake_on_inspec_documents():
    bench = load_bench()
    documents = bench.load_folder(require(KEYPHRASES / "Inspec"), limit=20)
    assert len(documents) == 20
    methods = ["ours", "rake"] if text_embeddings.embeddings_available() else ["ours-noemb", "rake"]
    scores = {method: bench.evaluate(method, documents)["f1@10"] for method in methods}
    ours, rake = scores[methods[0]], scores["rake"]
    assert ours > rake + 0.05, scores


def test_statistical_fallback_also_beats_plain_rake_on_inspec_documents():
    bench = load_bench()
    documents = bench.load_folder(require(KEYPHRASES / "Inspec"), limit=20)
    assert bench.evaluate("ours-noemb", documents)["f1@10"] > bench.evaluate("rake", documents)["f1@10"]


def test_keywords_describe_the_document():
    phrases = [keyword.phrase for keyword in extract_keywords(GARDENING, top_n=5)]
    assert any("rooftop garden" in phrase for phrase in phrases), phrases
    assert any("green roof" in phrase for phrase in phrases), phrases


# --- Contract --------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_embeddings", [True, False])
def test_scores_are_confidences_best_first(use_embeddings):
    keywords = extract_keywords(GARDENING, top_n=8, use_embeddings=use_embeddings)
    assert 1 <= len(keywords) <= 8
    assert all(isinstance(keyword, Keyword) and 0.0 <= keyword.score <= 1.0 for keyword in keywords)
    assert [keyword.score for keyword in keywords] == sorted((keyword.score for keyword in keywords), reverse=True)
    phrase, score, tag = keywords[0]
    assert phrase and tag is None


@pytest.mark.parametrize("text", ["", "   ", "the of and", "!!! ???"])
def test_nothing_to_say(text):
    assert extract_keywords(text) == []


def test_no_phrase_starts_or_ends_with_a_stopword():
    english = stopwords("en")
    for keyword in extract_keywords(GARDENING, top_n=15, use_embeddings=False):
        words = keyword.phrase.lower().split()
        assert words[0] not in english and words[-1] not in english, keyword


def test_duplicates_after_stemming_are_merged():
    text = "Neural networks are popular. A neural network is a model. We study neural networks. " * 3
    keys = [taxonomy_key(keyword.phrase) for keyword in extract_keywords(text, top_n=10)]
    assert keys.count(("neural", "network")) == 1
    assert len(keys) == len(set(keys))


# --- Taxonomy ----------------------------------------------------------------------------------------


def test_taxonomy_match_plural_and_case_prefers_the_tag():
    taxonomy = ["Green roof", "Rainwater", "Tomato"]
    keywords = extract_keywords(GARDENING, top_n=10, taxonomy=taxonomy)
    by_tag = {keyword.tag: keyword for keyword in keywords if keyword.tag}
    assert {"Green roof", "Rainwater", "Tomato"} <= set(by_tag)
    # A matched phrase is reported under the tag's own spelling.
    assert by_tag["Green roof"].phrase == "Green roof"
    untagged = extract_keywords(GARDENING, top_n=10)
    plain_score = next((keyword.score for keyword in untagged if taxonomy_key(keyword.phrase) == ("green", "roof")), 0)
    assert by_tag["Green roof"].score >= plain_score


def test_taxonomy_tag_containing_a_stopword_is_found_verbatim():
    text = "Our seaside kiosk sells fish and chips. Fish and chips remain the favourite of tourists."
    keywords = extract_keywords(text, top_n=5, taxonomy=["Fish and chips"])
    assert any(keyword.tag == "Fish and chips" for keyword in keywords)


@pytest.mark.parametrize(
    ("phrase", "tag"),
    [
        ("solar panels", "Solar panel"),
        ("batteries", "battery"),
        ("boxes", "Box"),
        ("web-based platforms", "Web based platform"),
    ],
)
def test_taxonomy_key_plural_singular(phrase, tag):
    assert taxonomy_key(phrase) == taxonomy_key(tag)


def test_taxonomy_key_keeps_words_ending_in_s_that_are_not_plurals():
    assert taxonomy_key("analysis") == ("analysis",)
    assert taxonomy_key("virus") == ("virus",)


# --- Languages --------------------------------------------------------------------------------------


def test_language_guess():
    assert guess_language(FRENCH) == "fr"
    assert guess_language(GARDENING) == "en"
    assert (
        guess_language("Die Stadt baut neue Radwege, weil immer mehr Menschen mit dem Fahrrad zur Arbeit fahren.")
        == "de"
    )
    assert guess_language("El ayuntamiento instala paneles solares en las escuelas de la ciudad.") == "es"
    assert guess_language("12345 678") == "en"


def test_french_text_gets_french_stopwords():
    keywords = extract_keywords(FRENCH, top_n=8)
    french = stopwords("fr")
    assert keywords
    for keyword in keywords:
        words = keyword.phrase.lower().split()
        assert words[0] not in french and words[-1] not in french, keyword
    assert any("panneaux solaires" in keyword.phrase for keyword in keywords), keywords
    assert "les" in phrase_breakers("fr") and "les" not in phrase_breakers("en")


def test_candidate_positions_count_words_from_the_start():
    candidates, _ = generate_candidates("Rooftop gardens cool cities. Green roofs reduce runoff.", "en")
    positions = {" ".join(candidate.words): candidate.first_position for candidate in candidates.values()}
    assert positions["rooftop gardens cool cities"] == 0
    assert 0 < positions["green roofs"] < positions["runoff"]


def test_sentence_splitter_needs_no_punkt():
    assert split_sentences("First one. Second one!\n\nThird\tcell") == ["First one.", "Second one!", "Third", "cell"]


# --- The worker's entry point and the management command ---------------------------------------


@pytest.fixture
def report(tmp_path):
    import docx

    document = docx.Document()
    for line in GARDENING.split(". "):
        document.add_paragraph(line)
    path = tmp_path / "gardens.docx"
    document.save(path)
    return path


def test_keywords_for_file(report):
    result = keywords_for_file(report, taxonomy=["green roofs"], top_n=5)
    assert result.extracted.format == "docx" and result.extracted.language == "en"
    assert len(result.keywords) <= 5
    assert any(keyword.tag == "green roofs" for keyword in result.keywords)


def test_management_command_json(report, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = io.StringIO()
    call_command(
        "smarttags_keywords", str(report), str(empty), "--json", "--top", "3", "--tag", "Green roof", stdout=out
    )
    results = json.loads(out.getvalue())
    assert results[0]["format"] == "docx" and len(results[0]["keywords"]) <= 3
    assert any(keyword["tag"] == "Green roof" for keyword in results[0]["keywords"])
    assert "is empty" in results[1]["error"]


def test_management_command_text(report):
    out = io.StringIO()
    call_command("smarttags_keywords", str(report), "--no-taxonomy", stdout=out)
    assert "DOCX, language en" in out.getvalue()
