"""Store NumPy arrays as plain data (the .npy format, never pickles)."""

import functools
import io

import numpy as np


def encode_array(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


_NPY_MAGIC = b"\x93NUMPY\x01\x00"


def decode_array(data):
    if not isinstance(data, bytes):
        data = bytes(data)
    vector = _decode_float32_vector(data)
    return vector if vector is not None else np.load(io.BytesIO(data), allow_pickle=False)


def _decode_float32_vector(data):
    """Fast path for the cache's own vectors: np.load parses every header with ast.literal_eval,
    which costs more than the rest of a library-wide re-tag; a 1-D little-endian float32 array
    written by :func:`encode_array` is recognised from its header text instead."""
    if not data.startswith(_NPY_MAGIC):
        return None
    header_length = int.from_bytes(data[8:10], "little")
    length = _vector_length(data[10 : 10 + header_length])
    if length is None or len(data) - 10 - header_length != 4 * length:
        return None
    return np.frombuffer(data, dtype="<f4", offset=10 + header_length)


@functools.lru_cache(maxsize=64)
def _vector_length(header):
    """The length of a 1-D C-order float32 array from its .npy header, or None for any other array."""
    if b"'descr': '<f4'" not in header or b"'fortran_order': False" not in header:
        return None
    shape = header[header.find(b"'shape': (") + 10 : header.find(b")", header.find(b"'shape': ("))]
    parts = [part for part in shape.split(b",") if part.strip()]
    return int(parts[0]) if len(parts) == 1 else None


def encode_arrays(arrays):
    """Pack a dict of arrays into one .npz blob (a zip of .npy files, no pickles)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value, order="C") for name, value in arrays.items()})
    return buffer.getvalue()


def decode_arrays(data):
    with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
