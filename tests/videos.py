"""Small real video files, encoded by the tests with PyAV (whose wheels ship FFmpeg and x264)."""

import io
from fractions import Fraction

import numpy as np
from PIL import Image

# (file name, container format, codec, pixel format): the containers and codecs the app supports.
SUPPORTED = [
    ("clip.mp4", "mp4", "libx264", "yuv420p"),
    ("clip.mkv", "matroska", "libx264", "yuv420p"),
    ("clip.mov", "mov", "libx264", "yuv420p"),
    ("clip-mjpeg.mov", "mov", "mjpeg", "yuvj420p"),
    ("clip.avi", "avi", "mpeg4", "yuv420p"),
    ("clip.flv", "flv", "flv", "yuv420p"),
    ("clip.wmv", "asf", "wmv2", "yuv420p"),
]


def encode_video(frames, fmt="mp4", codec="libx264", pixel_format="yuv420p", fps=1, size=(96, 64), gop=None):
    """Encode ``frames`` (RGB PIL images or (r, g, b) colours), each shown for ``1 / fps`` seconds."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = size
        stream.pix_fmt = pixel_format
        if gop:
            stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.options = {"crf": "18", "preset": "ultrafast"}
        for index, frame in enumerate(frames):
            picture = _picture(frame, size)
            video_frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
            video_frame.pts = index
            _encode(container, stream, video_frame)
        _encode(container, stream, None)
    return buffer.getvalue()


def _encode(container, stream, frame):
    """Encode one frame, or with ``None`` flush the encoder, and write the packets."""
    for packet in stream.encode(frame):
        container.mux(packet)


def _picture(frame, size):
    if isinstance(frame, Image.Image):
        canvas = Image.new("RGB", size, (255, 255, 255))
        picture = frame.convert("RGB")
        picture.thumbnail(size)
        canvas.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
        return canvas
    return Image.new("RGB", size, tuple(frame))


def grey_levels(count, step=8):
    """Frames whose grey level tells which frame a decoder returned: frame i is ``i * step``."""
    return [(index * step,) * 3 for index in range(count)]


def encode_audio(fmt="mp4", codec="aac", seconds=1, rate=8000):
    """A sound file with no pictures."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        samples = np.zeros((1, rate * seconds), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = rate
        _encode(container, stream, frame)
        _encode(container, stream, None)
    return buffer.getvalue()


def audio_with_cover_art():
    """A music file whose "video" stream is one picture marked as attached (cover art)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        sound = container.add_stream("aac", rate=8000)
        _encode(container, cover, av.VideoFrame.from_image(Image.new("RGB", (64, 64), (200, 0, 0))))
        _encode(container, cover, None)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 8000), dtype=np.float32), format="fltp", layout="mono")
        samples.sample_rate = 8000
        _encode(container, sound, samples)
        _encode(container, sound, None)
    return buffer.getvalue()


def long_video(hours=2, seconds_per_frame=30):
    """An ``hours``-long video with one frame every ``seconds_per_frame`` seconds: small but truly long."""
    count = int(hours * 3600 / seconds_per_frame)
    return encode_video(
        grey_levels(count, step=1), fps=Fraction(1, seconds_per_frame), size=(64, 48), gop=10
    ), count


def with_unknown_codec(data, fourcc=b"FMP4"):
    """An AVI whose codec tag names a codec no FFmpeg knows."""
    assert fourcc in data
    return data.replace(fourcc, b"ZZZZ").replace(fourcc.lower(), b"zzzz")


def create_media(data, name, media_type="video", title=None):
    from django.core.files.base import ContentFile
    from wagtailmedia.models import get_media_model

    from .factories import root_collection

    media = get_media_model()(title=title or name, type=media_type, collection=root_collection())
    media.file.save(name, ContentFile(data), save=False)
    media.save()
    return media
