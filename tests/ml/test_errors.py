"""Recorded errors: English text for logs, a record (template and parameters) the admin translates."""

import pickle

from wagtail_smarttags.ml.errors import (
    MissingDependencyError,
    UnreadableAssetError,
    format_record,
    gettext_noop,
)


def test_an_error_keeps_its_template_and_params_and_is_translated_at_every_level():
    cause = UnreadableAssetError(gettext_noop("a stream is broken (%(detail)s)"), detail="bad header")
    error = UnreadableAssetError(gettext_noop("%(name)s was refused: %(error)s."), name="report.pdf", error=cause)

    assert str(error) == "report.pdf was refused: a stream is broken (bad header)."
    assert error.record == {
        "message": "%(name)s was refused: %(error)s.",
        "params": {
            "name": "report.pdf",
            "error": {"message": "a stream is broken (%(detail)s)", "params": {"detail": "bad header"}},
        },
    }

    french = {
        "%(name)s was refused: %(error)s.": "%(name)s a été refusé : %(error)s.",
        "a stream is broken (%(detail)s)": "un flux est cassé (%(detail)s)",
    }
    assert format_record(error.record, lambda message: french.get(message, message)) == (
        "report.pdf a été refusé : un flux est cassé (bad header)."
    )
    assert format_record(error.record) == str(error)

    missing = MissingDependencyError("av", extra="video", purpose=gettext_noop("video frames"))
    for original in (error, missing):
        copy = pickle.loads(pickle.dumps(original))
        assert type(copy) is type(original)
        assert str(copy) == str(original)
        assert copy.record == original.record
    assert pickle.loads(pickle.dumps(missing)).package == "av"
    assert "video frames" in str(missing)
