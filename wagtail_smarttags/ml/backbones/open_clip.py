"""OpenCLIP image backbone: CLIP image embeddings, text embeddings and zero-shot labels.

Options (``WAGTAIL_SMARTTAGS["IMAGE_BACKBONE"]["OPTIONS"]``):

``model_name``
    An OpenCLIP architecture, e.g. ``"ViT-B-32"`` (see ``open_clip.list_models()``), or an
    ``"hf-hub:org/repo"`` / ``"local-dir:/path"`` name that carries its own weights.
``pretrained``
    An OpenCLIP pretrained tag such as ``"laion2b_s34b_b79k"`` (downloaded on first use, so
    the machine needs internet access once), a path to a local checkpoint file, or ``None``
    for random weights (useful only in tests).
``device``
    ``"cpu"``, ``"cuda"``, ...; by default CUDA when available.
``threads``
    Torch CPU threads. Set 1 when several workers share a small machine: oversubscribed
    threads make torch very much slower, not faster.
``prompt_template``
    How a label becomes a text prompt for zero-shot labelling; ``{label}`` is replaced.

``open_clip`` and ``torch`` are imported only when the model is first needed.
"""

import hashlib
import os
import threading
import time

import numpy as np

from ..errors import BackboneLoadError, MissingDependencyError, gettext_noop, message_record
from .base import ImageBackbone, Problem, l2_normalise, top_labels

DEFAULT_PROMPT_TEMPLATE = "a photo of {label}"

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")

# Random weights are drawn from a fixed seed so that every process builds the same model and
# the id can honestly promise the same vectors.
RANDOM_INIT_SEED = 0

# Increase when preprocessing or pooling changes, so cached embeddings are not reused.
EMBEDDING_VERSION = 1

# EmbeddingCache.backbone_id and TagModelVersion.backbone_id hold at most 100 characters.
MAX_ID_LENGTH = 100

TEXT_BATCH_SIZE = 64

RETRY_LOAD_AFTER_SECONDS = 300

_checkpoint_digests: dict[str, str] = {}


class OpenCLIPBackbone(ImageBackbone):
    name = "open_clip"
    requirements = (("torch", "openclip"), ("open_clip", "openclip"))

    @classmethod
    def check(cls, options):
        problems = super().check(options)
        if not options.get("model_name"):
            problems.append(Problem("The open_clip backbone needs OPTIONS['model_name'], e.g. 'ViT-B-32'."))
        return problems

    def __init__(
        self,
        model_name,
        pretrained=None,
        device=None,
        threads=None,
        prompt_template=DEFAULT_PROMPT_TEMPLATE,
        **options,
    ):
        super().__init__(
            model_name=model_name,
            pretrained=pretrained,
            device=device,
            threads=threads,
            prompt_template=prompt_template,
            **options,
        )
        if not model_name or not isinstance(model_name, str):
            raise BackboneLoadError(gettext_noop("The open_clip backbone needs a model_name, e.g. 'ViT-B-32'."))
        if "{label}" not in prompt_template:
            raise BackboneLoadError(
                gettext_noop("The prompt_template %(template)s must contain '{label}'."),
                template=repr(prompt_template),
            )
        self.model_name = model_name
        self.pretrained = os.fspath(pretrained) if pretrained else None
        self.device = device
        self.threads = threads
        self.prompt_template = prompt_template
        self._lock = threading.Lock()
        self._model = None
        self._preprocess = None
        self._tokenizer = None
        self._config = None
        self._text_vectors = {}
        self._failure = None

    # Identity ----------------------------------------------------------------------------

    @property
    def checkpoint_path(self):
        """The local checkpoint file named by ``pretrained``, or ``None`` for a tag or random weights."""
        if self.pretrained and _looks_like_path(self.pretrained):
            return os.path.abspath(os.path.expanduser(self.pretrained))
        return None

    @property
    def id(self):
        """``open_clip-<model_name>-<weights>@<version>``, at most 100 characters.

        A local checkpoint is identified by a hash of its content (computed once per process),
        since the same path may hold different weights over time.
        """
        if self.model_name.startswith(("hf-hub:", "local-dir:")):
            weights = "bundled"
        elif self.checkpoint_path:
            stem = os.path.splitext(os.path.basename(self.checkpoint_path))[0][:24]
            weights = f"file:{stem}:{_file_digest(self.checkpoint_path)[:16]}"
        elif self.pretrained:
            weights = self.pretrained
        else:
            weights = f"random{RANDOM_INIT_SEED}"
        full = f"open_clip-{self.model_name}-{weights}@{EMBEDDING_VERSION}"
        if len(full) <= MAX_ID_LENGTH:
            return full
        suffix = f"~{hashlib.sha1(full.encode()).hexdigest()[:16]}@{EMBEDDING_VERSION}"
        return full[: MAX_ID_LENGTH - len(suffix)] + suffix

    @property
    def dimension(self):
        config = self._model_config()
        if config and "embed_dim" in config:
            return int(config["embed_dim"])
        # Names like "hf-hub:..." keep their configuration remotely: ask the model itself.
        return int(self.forward(self.preprocess([_blank_image()])).shape[1])

    @property
    def input_size(self):
        """The side of the square image the network sees, in pixels."""
        if self._model is None:
            config = self._model_config()
            if config and "image_size" in config.get("vision_cfg", {}):
                return _largest_side(config["vision_cfg"]["image_size"])
        return _largest_side(self.model.visual.image_size)

    # Loading -----------------------------------------------------------------------------

    @property
    def model(self):
        self._ensure_loaded()
        return self._model

    def _ensure_loaded(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._load_or_repeat_recent_failure()

    def _load_or_repeat_recent_failure(self):
        # A failed download can take a minute of retries; repeating it for every asset in a queue
        # would stall the worker, so the failure is remembered for a while.
        if self._failure and time.monotonic() - self._failure[0] < RETRY_LOAD_AFTER_SECONDS:
            raise self._failure[1]
        try:
            self._load()
        except BackboneLoadError as error:
            self._failure = (time.monotonic(), error)
            raise
        self._failure = None

    def _load(self):
        torch = import_torch()
        open_clip = import_open_clip()
        pretrained = self._validated_pretrained(open_clip)
        if self.threads:
            torch.set_num_threads(int(self.threads))
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(RANDOM_INIT_SEED)
                model, _, preprocess = open_clip.create_model_and_transforms(
                    self.model_name, pretrained=pretrained, device=device
                )
            tokenizer = open_clip.get_tokenizer(self.model_name)
        except MemoryError:
            raise BackboneLoadError(
                gettext_noop("Not enough memory to load the OpenCLIP model %(model)s."), model=repr(self.model_name)
            ) from None
        except Exception as error:
            raise self._load_failure(error) from error
        model.eval()
        self._device = device
        self._preprocess = preprocess
        self._tokenizer = tokenizer
        self._model = model

    def _validated_pretrained(self, open_clip):
        if self.model_name.startswith(("hf-hub:", "local-dir:")):
            return None  # these names carry their own weights
        if self._model_config() is None:
            raise BackboneLoadError(
                gettext_noop(
                    "Unknown OpenCLIP model %(model)s. Choose one of open_clip.list_models(), e.g. 'ViT-B-32'."
                ),
                model=repr(self.model_name),
            )
        if not self.pretrained:
            return None
        path = self.checkpoint_path
        if path:
            if not os.path.isfile(path):
                raise _missing_checkpoint(path)
            return path
        tags = open_clip.list_pretrained_tags_by_model(self.model_name)
        if self.pretrained not in tags:
            raise BackboneLoadError(
                gettext_noop(
                    "%(tag)s is not a pretrained tag for the OpenCLIP model %(model)s "
                    "(available: %(available)s), nor a path to a checkpoint file."
                ),
                tag=repr(self.pretrained),
                model=repr(self.model_name),
                available=", ".join(tags) or message_record(gettext_noop("none")),
            )
        return self.pretrained

    def _load_failure(self, error):
        detail = " ".join(str(error).split())[:400] or type(error).__name__
        model = repr(self.model_name)
        if self.checkpoint_path:
            return BackboneLoadError(
                gettext_noop("Could not load the OpenCLIP checkpoint %(path)s into %(model)s: %(error)s"),
                path=self.checkpoint_path,
                model=model,
                error=detail,
            )
        if self.pretrained:
            return BackboneLoadError(
                gettext_noop(
                    "Could not load the OpenCLIP weights %(tag)s for %(model)s: %(error)s. "
                    "They are downloaded on first use; if this machine cannot download them, fetch the checkpoint "
                    "elsewhere and set OPTIONS['pretrained'] to its local path."
                ),
                tag=repr(self.pretrained),
                model=model,
                error=detail,
            )
        return BackboneLoadError(
            gettext_noop("Could not create the OpenCLIP model %(model)s: %(error)s"), model=model, error=detail
        )

    def _model_config(self):
        if self._config is None and not self.model_name.startswith(("hf-hub:", "local-dir:")):
            self._config = import_open_clip().get_model_config(self.model_name) or {}
        return self._config or None

    # Images ------------------------------------------------------------------------------

    def preprocess(self, images):
        torch = import_torch()
        self._ensure_loaded()  # the evaluation transform is created with the model
        return torch.stack([self._preprocess(image) for image in images])

    def forward(self, batch):
        torch = import_torch()
        model = self.model
        with torch.inference_mode():
            features = model.encode_image(batch.to(self._device))
        return l2_normalise(features.float().cpu().numpy()).astype(np.float32, copy=False)

    # Text and zero-shot labels -----------------------------------------------------------

    def embed_texts(self, texts):
        """L2-normalised float32 text embeddings, one row per text, comparable with image embeddings."""
        torch = import_torch()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        chunks = []
        for start in range(0, len(texts), TEXT_BATCH_SIZE):
            tokens = self._tokenizer(texts[start : start + TEXT_BATCH_SIZE]).to(self._device)
            with torch.inference_mode():
                chunks.append(model.encode_text(tokens).float().cpu().numpy())
        return l2_normalise(np.concatenate(chunks)).astype(np.float32, copy=False)

    supports_zero_shot = True

    def generic_labels(self, images, top_k=5, candidate_labels=None):
        """The ``top_k`` best of ``candidate_labels`` for each image, as ``[[(label, score), ...], ...]``.

        Without ``candidate_labels`` the 1,000 ImageNet classes are used; see :meth:`zero_shot`.
        """
        images = list(images)
        if not images:
            return []
        labels = candidate_labels if candidate_labels is not None else _imagenet_labels()
        return self.zero_shot(self.embed(images), labels, top_k)

    def zero_shot(self, vectors, labels, top_k=5):
        """Score each label against each embedding, as the prompt ``prompt_template`` ("a photo of {label}").

        Scores are probabilities: a softmax over the candidates for CLIP models, so they depend
        on which candidates compete; an independent sigmoid per label for SigLIP models.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        labels = list(dict.fromkeys(labels))
        if not len(vectors) or not labels or top_k <= 0:
            return [[] for _ in range(len(vectors))]
        scores = self._scores(l2_normalise(vectors) @ self._label_vectors(labels).T)
        return top_labels(scores, labels, top_k)

    def _label_vectors(self, labels):
        prompts = [self.prompt_template.format(label=label) for label in labels]
        missing = [prompt for prompt in dict.fromkeys(prompts) if prompt not in self._text_vectors]
        if missing:
            self._text_vectors.update(zip(missing, self.embed_texts(missing), strict=True))
        return np.stack([self._text_vectors[prompt] for prompt in prompts])

    def _scores(self, similarities):
        model = self.model
        scale = getattr(model, "logit_scale", None)
        scale = float(scale.detach().exp()) if scale is not None else 100.0  # CLIP's usual learnt value
        logits = similarities.astype(np.float64) * scale
        bias = getattr(model, "logit_bias", None)
        if bias is not None:
            return 1.0 / (1.0 + np.exp(-(logits + float(bias.detach()))))
        logits -= logits.max(axis=1, keepdims=True)
        exponentials = np.exp(logits)
        return exponentials / exponentials.sum(axis=1, keepdims=True)


def _looks_like_path(value):
    # Pretrained tags are short names such as "laion2b_s34b_b79k": never a separator or file suffix.
    return (
        "/" in value or os.sep in value or value.startswith(("~", ".")) or value.lower().endswith(CHECKPOINT_SUFFIXES)
    )


def _file_digest(path):
    try:
        status = os.stat(path)
    except OSError:
        raise _missing_checkpoint(path)
    key = (path, status.st_size, status.st_mtime_ns)
    if key not in _checkpoint_digests:
        with open(path, "rb") as file:
            _checkpoint_digests[key] = hashlib.file_digest(file, "sha256").hexdigest()
    return _checkpoint_digests[key]


def _missing_checkpoint(path):
    return BackboneLoadError(
        gettext_noop("The OpenCLIP checkpoint file %(path)s does not exist; check OPTIONS['pretrained']."), path=path
    )


def _largest_side(size):
    return int(max(size)) if isinstance(size, list | tuple) else int(size)


def _imagenet_labels():
    return import_open_clip().IMAGENET_CLASSNAMES


def _blank_image():
    from PIL import Image

    return Image.new("RGB", (8, 8))


def import_open_clip():
    try:
        import open_clip
    except ImportError:
        raise MissingDependencyError(
            "open_clip", extra="openclip", purpose=gettext_noop("the OpenCLIP image backbone")
        ) from None
    return open_clip


def import_torch():
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            "torch", extra="openclip", purpose=gettext_noop("the OpenCLIP image backbone")
        ) from None
    return torch
