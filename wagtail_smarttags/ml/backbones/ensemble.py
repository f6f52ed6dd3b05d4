"""Several backbones as one: their embeddings, each L2-normalised, concatenated with equal weight.

Networks trained differently make different mistakes; concatenating their features gives the
few-shot classifier more to separate tags with (see docs/benchmarks.md for what it buys).
"""

import numpy as np

from ..errors import BackboneLoadError
from .base import ImageBackbone


class EnsembleBackbone(ImageBackbone):
    name = "ensemble"

    def __init__(self, members=(), **options):
        super().__init__(members=members, **options)
        from . import load_backbone

        if len(members) < 2:
            raise BackboneLoadError("An ensemble backbone needs at least two members.")
        self.members = [load_backbone(member["BACKEND"], member.get("OPTIONS")) for member in members]
        self.input_size = max(getattr(member, "input_size", 0) for member in self.members)
        self.batch_size = min(member.batch_size for member in self.members)

    @property
    def id(self):
        return "ensemble(" + ",".join(member.id for member in self.members) + ")@1"

    @property
    def dimension(self):
        return sum(member.dimension for member in self.members)

    def preprocess(self, images):
        return tuple(member.preprocess(images) for member in self.members)

    def forward(self, batch):
        parts = [member.forward(member_batch) for member, member_batch in zip(self.members, batch)]
        return (np.concatenate(parts, axis=1) / np.sqrt(len(parts))).astype(np.float32)

    def imagenet_probabilities(self, images):
        for member in self.members:
            if hasattr(member, "imagenet_probabilities"):
                return member.imagenet_probabilities(images)
        raise NotImplementedError("No member of this ensemble classifies ImageNet classes.")
