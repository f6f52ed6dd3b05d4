"""What the reader child runs: decoding and parsing of untrusted files, with no Django in it.

A job takes plain arguments (paths, numbers, dicts of limits) and returns plain data, which the
worker unpickles safely (see ``protocol``) and turns back into images or keywords. Each job names
the modules it needs and may warm up (load a model) before the job's limits are set, so that the
memory a file may use is not eaten by a library's own import.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    function: object
    imports: tuple = ()
    #: Called with the job's arguments before the limits are set: loads what the job needs once.
    warm_up: object = None


JOBS: dict = {}


def job(name, *, imports=(), warm_up=None):
    def decorator(function):
        JOBS[name] = Job(name, function, tuple(imports), warm_up)
        return function

    return decorator


def image_to_plain(image):
    """An RGB ``PIL.Image`` as ``(width, height, bytes)``."""
    return image.width, image.height, image.tobytes()


def image_from_plain(plain):
    from PIL import Image

    width, height, data = plain
    return Image.frombytes("RGB", (width, height), data)


@job("image", imports=("wagtail_smarttags.ml.images",))
def read_image(path, target_size, max_pixels):
    from ..ml.images import decode_image

    return image_to_plain(decode_image(path, target_size=target_size, max_pixels=max_pixels))


@job("video", imports=("wagtail_smarttags.ml.video", "av"))
def read_video(path, limits):
    from ..ml.video import VideoLimits, sample_frames

    return [image_to_plain(image) for image in sample_frames(path, VideoLimits(**limits)).images]


DOCUMENT_LIBRARIES = ("wagtail_smarttags.ml.text", "pdfminer.pdfinterp", "docx", "pptx", "lxml.etree", "rake_nltk")


def _load_minilm(use_embeddings=True, **arguments):
    if use_embeddings:
        from ..ml.text import embeddings

        embeddings.get_model()


@job("document", imports=DOCUMENT_LIBRARIES, warm_up=_load_minilm)
def read_document(path, filename, limits, taxonomy=(), top_n=5, use_embeddings=True):
    """The keywords of a document and how its text was read. The child ranks them with MiniLM too,
    loaded once per child, so that the worker itself never holds the text model."""
    from ..ml.text import ExtractionLimits, extract_keywords, extract_text

    extracted = extract_text(path, filename, ExtractionLimits(**limits))
    keywords = extract_keywords(extracted.text, top_n=top_n, taxonomy=taxonomy, language=extracted.language,
                                use_embeddings=use_embeddings)  # fmt: skip
    return {
        "format": extracted.format,
        "language": extracted.language,
        "truncated_by": extracted.truncated_by,
        "characters": len(extracted.text),
        "keywords": [tuple(keyword) for keyword in keywords],
    }
