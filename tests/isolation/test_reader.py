"""The reader child, with real hostile files: each limit stops it, the worker's process carries on,
and the next file is read by a fresh child. No Django here, as in the package."""

import os
import pickle
import signal
import threading
import time
from dataclasses import asdict

import pytest

from wagtail_smarttags.isolation import IsolatedReader, ReaderLimitError, ReaderLimits, image_from_plain
from wagtail_smarttags.isolation.protocol import PlainUnpickler, encode, read_reply
from wagtail_smarttags.ml.errors import NotTaggableError, UnreadableAssetError
from wagtail_smarttags.ml.text import ExtractionLimits

from .. import badfiles
from ..baddocuments import MiB, html_nested, pdf_flate_bomb
from ..datasets import clothing_images
from ..videos import encode_audio

MAX_PIXELS = 89_478_485


@pytest.fixture
def reader():
    reader = IsolatedReader()
    yield reader
    reader.close()


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def read_photo(reader, limits=None):
    path = clothing_images("validation", ["hat"], per_class=1)["hat"][0]
    plain = reader.run("image", limits or ReaderLimits(), path=str(path), target_size=320, max_pixels=MAX_PIXELS)
    return image_from_plain(plain)


def test_an_image_is_decoded_in_the_child_and_the_child_is_reused(reader):
    first = read_photo(reader)
    pid = reader.pid
    second = read_photo(reader)
    assert first.mode == "RGB" and min(first.size) == 320
    assert first.tobytes() == second.tobytes()
    assert reader.pid == pid != os.getpid()
    assert reader.started == 1


def test_a_file_needing_more_memory_than_the_limit_is_stopped_and_the_next_file_is_read(reader, tmp_path):
    # The PDF's own stream limit raised out of the way: only the reader's memory limit stands.
    path = write(tmp_path, "bomb.pdf", pdf_flate_bomb(inflated=1024 * MiB))
    limits = ReaderLimits(max_memory=64 * MiB, max_seconds=30)
    text_limits = asdict(ExtractionLimits(max_stream_bytes=4096 * MiB))
    with pytest.raises(ReaderLimitError, match=r"needs more than 64 MiB to read"):
        reader.run("document", limits, path=path, filename="bomb.pdf", limits=text_limits, taxonomy=[])
    assert reader.pid is None, "a child that ran out of memory does not go on"
    assert min(read_photo(reader).size) == 320
    assert reader.started == 2


def warm_document_reader(reader, tmp_path):
    """One small document read: the child has imported the document libraries and loaded MiniLM."""
    small = write(tmp_path, "small.html", html_nested(10))
    reader.run("document", ReaderLimits(), path=small, filename="small.html", limits=asdict(ExtractionLimits()))


def test_a_file_taking_longer_than_the_limit_is_stopped_on_time(reader, tmp_path):
    path = write(tmp_path, "nested.html", html_nested(3_000_000))
    warm_document_reader(reader, tmp_path)
    started = time.monotonic()
    with pytest.raises(ReaderLimitError, match=r"took longer than 1 s to read"):
        reader.run("document", ReaderLimits(max_seconds=1), path=path, filename="nested.html",
                   limits=asdict(ExtractionLimits()))  # fmt: skip
    assert time.monotonic() - started < 1 + 3
    assert reader.pid is None
    assert min(read_photo(reader).size) == 320


def test_a_child_that_crashes_gives_the_file_a_readable_error(reader, tmp_path):
    path = write(tmp_path, "nested.html", html_nested(3_000_000))
    warm_document_reader(reader, tmp_path)  # the crash comes in the middle of the file, not of an import
    pid = reader.pid
    killer = threading.Timer(1.0, os.kill, (pid, signal.SIGSEGV))
    killer.start()
    try:
        with pytest.raises(UnreadableAssetError, match=r"crashed the reader \(signal SIGSEGV\)"):
            reader.run("document", ReaderLimits(), path=path, filename="nested.html",
                       limits=asdict(ExtractionLimits()), taxonomy=[])  # fmt: skip
    finally:
        killer.cancel()
    assert min(read_photo(reader).size) == 320


def test_a_killed_idle_child_is_replaced_at_the_next_file(reader):
    read_photo(reader)
    os.kill(reader.pid, signal.SIGKILL)
    time.sleep(0.2)
    assert min(read_photo(reader).size) == 320
    assert reader.started == 2


def test_errors_of_the_file_keep_their_kind(reader, tmp_path):
    jpeg_named_txt = write(tmp_path, "notes.txt", badfiles.small_jpeg())
    with pytest.raises(UnreadableAssetError, match="binary data"):
        reader.run("document", ReaderLimits(), path=jpeg_named_txt, filename="notes.txt",
                   limits=asdict(ExtractionLimits()), taxonomy=[])  # fmt: skip
    sound = write(tmp_path, "sound.mp4", encode_audio())
    with pytest.raises(NotTaggableError):
        reader.run("video", ReaderLimits(), path=sound, limits={})
    assert reader.started == 1, "an error of the file does not cost the child"


def test_documents_get_their_keywords_in_the_child(reader, tmp_path):
    text = "Solar panels on school roofs reduce energy bills. Solar panels are cheap. Rooftop gardens cool classrooms."
    path = write(tmp_path, "solar.txt", text.encode())
    plain = reader.run("document", ReaderLimits(), path=path, filename="solar.txt",
                       limits=asdict(ExtractionLimits()), taxonomy=["Solar panel"], top_n=3)  # fmt: skip
    assert plain["format"] == "txt" and plain["language"] == "en" and plain["characters"] == len(text)
    phrases = {phrase: tag for phrase, _, tag in plain["keywords"]}
    assert phrases["Solar panel"] == "Solar panel"
    assert len(plain["keywords"]) == 3


def test_replies_may_hold_only_plain_data():
    class Hostile:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    read_end, write_end = os.pipe()
    os.write(write_end, encode(("ok", Hostile(), False)))
    os.close(write_end)
    with pytest.raises(pickle.UnpicklingError, match="only plain data"):
        read_reply(read_end, time.monotonic() + 5, 1024 * 1024)
    os.close(read_end)
    assert PlainUnpickler  # the class the worker unpickles replies with


def test_a_reply_longer_than_allowed_is_refused_unread():
    from wagtail_smarttags.isolation.protocol import ReplyTooLarge

    read_end, write_end = os.pipe()
    os.write(write_end, encode(("ok", b"x" * 4096, False)))
    os.close(write_end)
    with pytest.raises(ReplyTooLarge):
        read_reply(read_end, time.monotonic() + 5, 1024)
    os.close(read_end)
