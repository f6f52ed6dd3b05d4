"""Sample frames from a video with PyAV, whose wheels ship their own FFmpeg.

Frames are taken at even intervals across the video by seeking to each one, so a
two-hour film costs about as many decodes as a one-minute clip. Streams that cannot
seek (no index, or a duration nobody wrote down) are decoded from the start instead,
keeping an evenly thinned set of frames, and the whole decode has a wall-clock budget.
Every failure is an :class:`UnreadableAssetError` with a message an editor can read;
a file with sound but no pictures is a :class:`NotTaggableError`.
"""

import time
from dataclasses import dataclass, field

from .errors import MissingDependencyError, NotTaggableError, UnreadableAssetError, gettext_noop


@dataclass(frozen=True)
class VideoLimits:
    #: At most this many frames are sampled from one video.
    max_frames: int = 16
    #: Sampled frames are at least this many seconds apart: a 5-second clip gives 5 frames.
    min_interval: float = 1.0
    #: Wall-clock budget for decoding one video; frames found by then are used.
    max_seconds: float = 60.0
    #: Videos whose frames have more pixels than this are refused before decoding.
    max_pixels: int = 89_478_485
    #: Frames decoded after a seek to reach the wanted time before taking what was reached.
    max_frames_per_seek: int = 500
    #: Frames decoded in all when reading from the start (no seeking).
    max_decoded_frames: int = 20_000
    #: Frames are scaled so that their shorter side is at most this many pixels.
    target_size: int = 320


DEFAULT_VIDEO_LIMITS = VideoLimits()


@dataclass
class VideoFrames:
    images: list
    timestamps: list
    duration: float | None
    codec: str
    #: True when the time budget ran out before every wanted frame was decoded.
    truncated: bool = False
    errors: list = field(default_factory=list)


def sample_frames(source, limits=DEFAULT_VIDEO_LIMITS):
    """Decode up to ``limits.max_frames`` RGB ``PIL.Image`` frames spread across a video.

    ``source`` is a path or a binary file object that can seek.
    """
    av = import_av()
    deadline = time.monotonic() + limits.max_seconds
    try:
        container = _open(av, source)
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as error:
        raise UnreadableAssetError(
            gettext_noop("The file is not a video that FFmpeg can read: %(error)s"), error=_reason(error)
        ) from None
    try:
        stream = _video_stream(container)
        codec = _check_codec(stream, limits)
        duration = _duration(stream, container)
        sampler = _Sampler(container, stream, limits, deadline)
        if duration and duration > 0:
            targets = _even_targets(duration, limits)
            frames = sampler.by_seeking(targets)
            if len(frames) < len(targets) and not sampler.out_of_time:
                # Some formats (FLV, AVI without an index) seek badly: read them from the start.
                sampler.errors.clear()
                frames = sampler.from_start(targets=targets)
        else:
            frames = sampler.from_start(targets=None)
    except av.FFmpegError as error:
        raise UnreadableAssetError(
            gettext_noop("The video could not be decoded: %(error)s"), error=_reason(error)
        ) from None
    finally:
        container.close()
    if not frames:
        if sampler.out_of_time:
            raise UnreadableAssetError(
                gettext_noop("No frame could be decoded within the %(seconds)s seconds allowed for a video."),
                seconds=f"{limits.max_seconds:g}",
            )
        if sampler.errors:
            raise UnreadableAssetError(
                gettext_noop("The video has no frame that could be decoded: %(error)s."), error=sampler.errors[-1]
            )
        raise UnreadableAssetError(gettext_noop("The video has no frame that could be decoded."))
    frames.sort(key=lambda pair: pair[0])
    return VideoFrames(
        images=[image for _, image in frames],
        timestamps=[timestamp for timestamp, _ in frames],
        duration=duration,
        codec=codec,
        truncated=sampler.out_of_time,
        errors=list(sampler.errors),
    )


def _video_stream(container):
    # Cover art in a music file is a one-picture "video" stream marked as an attached picture.
    streams = [stream for stream in container.streams.video if not _is_attached_picture(stream)]
    if streams:
        return streams[0]
    if container.streams.audio:
        raise NotTaggableError(gettext_noop("The file has sound but no pictures: audio-only media get no smart tags."))
    raise UnreadableAssetError(gettext_noop("The file has no video stream."))


def _is_attached_picture(stream):
    disposition = getattr(stream, "disposition", None)
    try:
        return bool(disposition is not None and disposition & disposition.__class__.attached_pic)
    except (AttributeError, TypeError):
        return False


def _check_codec(stream, limits):
    try:
        context = stream.codec_context
    except Exception:  # noqa: BLE001  PyAV raises various errors for a codec FFmpeg does not know.
        context = None
    name = getattr(context, "name", None) if context is not None else None
    if not name or name == "none":
        tag = getattr(stream, "codec_tag", "")
        if tag:
            raise UnreadableAssetError(gettext_noop("The video codec (%(codec)s) is not supported."), codec=tag)
        raise UnreadableAssetError(gettext_noop("The video codec (unknown) is not supported."))
    width, height = context.width or 0, context.height or 0
    if width * height > limits.max_pixels:
        raise UnreadableAssetError(
            gettext_noop("The video is %(width)s×%(height)s pixels, more than the %(limit)s pixels allowed."),
            width=str(width),
            height=str(height),
            limit=limits.max_pixels,
        )
    # Several decoding threads would compete with the backbone's own threads for the worker's cores.
    context.thread_count = 1
    return name


def _duration(stream, container):
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return None


def _even_targets(duration, limits):
    count = max(1, min(limits.max_frames, int(duration / max(limits.min_interval, 1e-3))))
    return [duration * (index + 0.5) / count for index in range(count)]


class _Sampler:
    def __init__(self, container, stream, limits, deadline):
        self.container = container
        self.stream = stream
        self.limits = limits
        self.deadline = deadline
        self.start = float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0
        self.errors = []
        self.out_of_time = False

    def _expired(self):
        self.out_of_time = self.out_of_time or time.monotonic() > self.deadline
        return self.out_of_time

    def by_seeking(self, targets):
        av = import_av()
        frames = []
        for target in targets:
            if self._expired():
                break
            try:
                frame = self._frame_at(target)
            except av.FFmpegError as error:
                self.errors.append(_reason(error))
                continue
            if frame is not None:
                frames.append((target, self._image(frame)))
        return frames

    def _frame_at(self, target):
        """The frame on screen at ``target`` seconds: the last one that starts no later."""
        stream = self.stream
        self.container.seek(int((self.start + target) / stream.time_base), stream=stream, backward=True)
        shown = None
        for decoded, frame in enumerate(self.container.decode(stream)):
            when = frame.time
            if when is None:
                return frame
            if when - self.start > target:
                return shown or frame
            shown = frame
            if when - self.start == target or decoded >= self.limits.max_frames_per_seek or self._expired():
                break
        return shown

    def from_start(self, targets):
        """Decode from the beginning; with ``targets``, keep the frame on screen at each, else thin evenly."""
        av = import_av()
        try:
            self.container.seek(0)
        except av.FFmpegError:
            pass
        kept, step = [], 1
        pending = list(targets or [])
        frames_seen, shown = 0, None
        try:
            for frame in self.container.decode(self.stream):
                frames_seen += 1
                when = (frame.time - self.start) if frame.time is not None else float(frames_seen)
                if targets is not None:
                    while pending and when > pending[0]:
                        kept.append((pending.pop(0), self._image(shown or frame)))
                    shown = frame
                    if not pending:
                        break
                elif frames_seen % step == 0:
                    kept.append((when, self._image(frame)))
                    if len(kept) >= 2 * self.limits.max_frames:
                        # Keep every other frame and take half as many from now on: memory stays bounded.
                        kept, step = kept[::2], step * 2
                if frames_seen >= self.limits.max_decoded_frames or self._expired():
                    break
        except av.FFmpegError as error:
            self.errors.append(_reason(error))
        if targets is not None and pending and shown is not None:
            # The stream ended before the last targets: the last frame stays on screen until the end.
            kept.extend((target, self._image(shown)) for target in pending)
        if targets is None and len(kept) > self.limits.max_frames:
            indexes = _even_indexes(len(kept), self.limits.max_frames)
            kept = [kept[index] for index in indexes]
        return kept

    def _image(self, frame):
        width, height = frame.width, frame.height
        scale = min(1.0, self.limits.target_size / max(1, min(width, height)))
        size = {"width": max(1, round(width * scale)), "height": max(1, round(height * scale))}
        return frame.to_image(**size).convert("RGB")


def _even_indexes(length, count):
    return sorted({round(index * (length - 1) / max(1, count - 1)) for index in range(count)})


def _reason(error):
    message = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return message.rstrip(".")


def _open(av, source):
    try:
        # Undecodable metadata (titles in a legacy code page) must not make a readable video unreadable.
        return av.open(source, mode="r", metadata_errors="ignore")
    except TypeError:
        # PyAV 19 has no metadata_errors option.
        return av.open(source, mode="r")


def import_av():
    try:
        import av
    except ImportError:
        raise MissingDependencyError("av", extra="video", purpose=gettext_noop("video frames")) from None
    return av
