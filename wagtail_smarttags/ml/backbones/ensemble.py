"""Several backbones as one: their embeddings, each L2-normalised, concatenated with equal weight.

Networks trained differently make different mistakes; concatenating their features gives the
few-shot classifier more to separate tags with (see docs/benchmarks.md for what it buys).
"""

import numpy as np

from ..errors import BackboneLoadError, gettext_noop
from .base import ImageBackbone, Problem, top_labels


class EnsembleBackbone(ImageBackbone):
    name = "ensemble"

    @classmethod
    def check(cls, options):
        from . import check_backbone

        members = options.get("members")
        if not isinstance(members, list | tuple) or len(members) < 2:
            return [Problem("The ensemble backbone needs OPTIONS['members']: a list of two or more backbone dicts.")]
        return [problem for member in members for problem in check_backbone(member)]

    def __init__(self, members=(), **options):
        super().__init__(members=members, **options)
        from . import load_backbone

        if len(members) < 2:
            raise BackboneLoadError(gettext_noop("An ensemble backbone needs at least two members."))
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

    @property
    def has_fixed_labels(self):
        return any(member.has_fixed_labels for member in self.members)

    @property
    def supports_zero_shot(self):
        return any(member.supports_zero_shot for member in self.members)

    def embed_with_labels(self, images, top_k=5):
        """Each member embeds the images and labels them in the same pass.

        Members that classify ImageNet (EfficientNet-Lite) vote: their probabilities are averaged,
        which labels better than any one of them. Otherwise the first member with a label
        vocabulary labels the images.
        """
        return self.embed_prepared(self.prepare(images), top_k)

    def prepare(self, images):
        images = list(images)
        return len(images), [member.prepare(images) for member in self.members]

    def embed_prepared(self, prepared, top_k=5):
        count, per_member = prepared
        parts, voters, labels = [], [], None
        for member, member_prepared in zip(self.members, per_member):
            if hasattr(member, "embed_prepared_with_probabilities"):
                vectors, probabilities = member.embed_prepared_with_probabilities(member_prepared)
                voters.append(probabilities)
            else:
                vectors, member_labels = member.embed_prepared(member_prepared, top_k)
                if labels is None and member.has_fixed_labels:
                    labels = member_labels
            parts.append(vectors)
        vectors = (np.concatenate(parts, axis=1) / np.sqrt(len(parts))).astype(np.float32)
        if voters:
            from .efficientnet_lite import imagenet_labels

            labels = top_labels(np.mean(voters, axis=0), imagenet_labels(), top_k)
        return vectors, labels if labels is not None else [[] for _ in range(count)]

    def zero_shot(self, vectors, labels, top_k=5):
        """Zero-shot labels from the first member that can compare images with text, on its part of each vector."""
        start = 0
        for member in self.members:
            if member.supports_zero_shot:
                part = np.asarray(vectors)[:, start : start + member.dimension] * np.sqrt(len(self.members))
                return member.zero_shot(part, labels, top_k)
            start += member.dimension
        return super().zero_shot(vectors, labels, top_k)

    def imagenet_probabilities(self, images):
        for member in self.members:
            if hasattr(member, "imagenet_probabilities"):
                return member.imagenet_probabilities(images)
        raise NotImplementedError("No member of this ensemble classifies ImageNet classes.")
