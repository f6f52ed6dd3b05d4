"""Store NumPy arrays as plain data (the .npy format, never pickles)."""

import io

import numpy as np


def encode_array(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def decode_array(data):
    return np.load(io.BytesIO(bytes(data)), allow_pickle=False)


def encode_arrays(arrays):
    """Pack a dict of arrays into one .npz blob (a zip of .npy files, no pickles)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value, order="C") for name, value in arrays.items()})
    return buffer.getvalue()


def decode_arrays(data):
    with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
