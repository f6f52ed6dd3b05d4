from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag
from wagtail.images import get_image_model_string

from .i18n import render_message
from .ml.arrays import decode_array, decode_arrays, encode_array, encode_arrays
from .ml.errors import format_record


class TagModel(models.Model):
    """A group of exclusive taxonomy tags that is trained from example images."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        TRAINED = "trained", _("Trained")
        FAILED = "failed", _("Failed")

    title = models.CharField(_("title"), max_length=255, unique=True)
    description = models.TextField(_("description"), blank=True)
    tags = models.ManyToManyField(Tag, through="TagModelTag", related_name="smarttags_models", verbose_name=_("tags"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_message = models.TextField(_("status message"), blank=True)
    learn_from_moderation = models.BooleanField(
        _("learn from editors' decisions"),
        default=False,
        help_text=_(
            "At each training, images whose smart tag of this model editors promoted become examples of "
            "that tag, and images where they removed it teach the model what its tags are not."
        ),
    )
    active_version = models.ForeignKey(
        "TrainingVersion",
        verbose_name=_("active version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    last_trained_at = models.DateTimeField(_("last trained at"), null=True, blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("tag model")
        verbose_name_plural = _("tag models")
        permissions = [("train_tagmodel", _("Can train tag models"))]

    def __str__(self):
        return self.title


class TagModelTag(models.Model):
    """The through table: which tags a tag model decides between."""

    tag_model = models.ForeignKey(TagModel, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="smarttags_model_links")
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "tag__name"]
        constraints = [
            models.UniqueConstraint(fields=["tag_model", "tag"], name="smarttags_tag_once_per_model"),
        ]

    def __str__(self):
        return f"{self.tag_model}: {self.tag}"


class TrainingExample(models.Model):
    """An image an editor chose as an example of one tag of a tag model."""

    tag_model = models.ForeignKey(TagModel, on_delete=models.CASCADE, related_name="examples")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="smarttags_examples")
    image = models.ForeignKey(get_image_model_string(), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tag_model", "tag__name", "pk"]
        constraints = [
            # Tags of one model are exclusive: an image may exemplify only one of them.
            models.UniqueConstraint(fields=["tag_model", "image"], name="smarttags_example_one_tag_per_model"),
        ]

    def __str__(self):
        return f"{self.tag_model}: {self.tag} ← image {self.image_id}"


class TrainingVersion(models.Model):
    """One training run of a tag model, with its learnt parameters and metrics."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Training")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        # Trained, previewed and turned down by an editor: it never tagged an asset.
        DISCARDED = "discarded", _("Discarded")

    tag_model = models.ForeignKey(TagModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    backbone_id = models.CharField(max_length=100, blank=True)
    # The classifier's arrays as an .npz blob: data, never a pickle.
    parameters = models.BinaryField(null=True, editable=False)
    # {"tags": {tag id: {name, examples, precision, recall, threshold, similarity_floor}}, ...}
    metrics = models.JSONField(default=dict, blank=True)
    # False: once trained, the version waits to be previewed and activated by an editor.
    activate_when_trained = models.BooleanField(default=True)
    # What activating it would change in the library, computed from cached embeddings (see training.preview).
    preview = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When it first became the active version; None while it awaits activation, and for versions never used.
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tag_model", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["tag_model", "number"], name="smarttags_version_number_unique"),
        ]

    def __str__(self):
        return f"{self.tag_model} v{self.number}"

    @property
    def awaits_activation(self):
        return self.status == self.Status.SUCCEEDED and self.activated_at is None and bool(self.parameters)

    def set_parameters(self, arrays):
        self.parameters = encode_arrays(arrays)

    def get_parameters(self):
        return decode_arrays(self.parameters) if self.parameters else None


class AssetQuerySet(models.QuerySet):
    def for_asset(self, asset):
        return self.filter(content_type=ContentType.objects.get_for_model(asset), object_id=asset.pk)

    def for_model(self, model):
        return self.filter(content_type=ContentType.objects.get_for_model(model))


class AssetReference(models.Model):
    """Points at any asset (image, document, video) by content type and integer primary key."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()

    objects = AssetQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def asset(self):
        model = self.content_type.model_class()
        return model._default_manager.filter(pk=self.object_id).first() if model else None


class SmartTagLabel(models.Model):
    """A smart tag's name that is not (yet) one of the site's taggit tags: a document keyword, a generic label.

    The site's vocabulary stays the editors': such a name becomes a taggit tag only when an editor
    promotes it, or creates a tag of that name (``signal_handlers.adopt_labels``), and its smart tags
    then point at the tag.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("smart tag label")
        verbose_name_plural = _("smart tag labels")

    def __str__(self):
        return self.name


class SearchWord(models.Model):
    """A word of a taggit tag's or a smart-tag label's name, in lower case.

    How a search term finds the tags and labels it matches by an index look-up rather than a scan of
    their names. Kept exact by ``search.words``: a tag or label saved re-indexes its words in the same
    transaction, and a deleted one takes them along.
    """

    word = models.CharField(max_length=100, db_index=True)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(SmartTagLabel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tag__isnull=False, label__isnull=True)
                | models.Q(tag__isnull=True, label__isnull=False),
                name="smarttags_word_of_tag_or_label",
            ),
        ]

    def __str__(self):
        return self.word


class SmartTagQuerySet(AssetQuerySet):
    def shown(self):
        """The smart tags a site shows: applied or promoted (not removed), most confident first."""
        return (
            self.filter(state__in=[SmartTag.State.APPLIED, SmartTag.State.PROMOTED])
            .select_related("tag", "label")
            .order_by("-confidence", "pk")
        )


class SmartTag(AssetReference):
    """A tag given to an asset by the app, with its confidence and the editors' decision on it.

    It names either a taggit tag of the site (``tag``: trained models' tags, and keywords or generic
    labels that match the taxonomy) or a label of the app's own (``label``), never both.
    """

    class Source(models.TextChoices):
        TRAINED = "trained", _("Trained tag model")
        GENERIC = "generic", _("Generic")
        TEXT = "text", _("Text keywords")
        COLOUR = "colour", _("Colour")

    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REMOVED = "removed", _("Removed")
        PROMOTED = "promoted", _("Promoted")

    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="smart_tags")
    label = models.ForeignKey(
        SmartTagLabel, null=True, blank=True, on_delete=models.CASCADE, related_name="smart_tags"
    )
    confidence = models.FloatField()
    source = models.CharField(max_length=16, choices=Source.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.APPLIED)
    # An editor's decision outlives the tag model that suggested it (the applied rows go with the model).
    tag_model = models.ForeignKey(
        TagModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="smart_tags"
    )
    # The version that made this decision; later versions that decide the same leave it as it is.
    version = models.ForeignKey(
        TrainingVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="smart_tags"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # django-stubs types the abstract base's manager as a class variable; this one only narrows it.
    objects = SmartTagQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["-confidence"]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "tag"], name="smarttags_smarttag_unique"),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "label"], name="smarttags_smarttag_label_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1),
                name="smarttags_confidence_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=models.Q(tag__isnull=True, label__isnull=False)
                | models.Q(tag__isnull=False, label__isnull=True),
                name="smarttags_smarttag_tag_or_label",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="smarttags_smarttag_asset"),
            # Covers search's grouped query over matching smart tags without touching the table.
            models.Index(
                fields=["tag", "state", "content_type", "object_id", "confidence"], name="smarttags_smarttag_search"
            ),
            models.Index(
                fields=["label", "state", "content_type", "object_id", "confidence"], name="smarttags_label_search"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.confidence:.2f}, {self.state})"

    @property
    def name(self):
        return self.tag.name if self.tag_id else self.label.name

    @property
    def term(self):
        """What identifies this smart tag on its asset: ``"<tag id>"`` or ``"l<label id>"``."""
        return term_key(self.tag_id, self.label_id)

    @property
    def slug(self):
        """The taggit tag's slug, for links to a tag's listing; empty for a label that is not a tag."""
        return self.tag.slug if self.tag_id else ""

    @property
    def promoted(self):
        return self.state == self.State.PROMOTED


def get_smart_tags(asset, *, min_confidence=None, limit=None):
    """The smart tags a site shows for ``asset``: applied or promoted, most confident first.

    The helper behind ``{% smart_tags %}`` and the API fields: ``SmartTag.objects.for_asset(asset).shown()``.
    """
    smart_tags = SmartTag.objects.for_asset(asset).shown()
    if min_confidence is not None:
        smart_tags = smart_tags.filter(confidence__gte=min_confidence)
    return list(smart_tags[:limit] if limit else smart_tags)


def term_key(tag_id, label_id):
    """A smart tag's key on its asset, as in form field names and decisions: ``"12"`` or ``"l7"``."""
    return str(tag_id) if tag_id is not None else f"l{label_id}"


def term_filter(term):
    """``Q`` selecting the smart tags of ``term``: a tag id (int or digits) or ``"l<label id>"``."""
    term = str(term)
    if term.isdigit():
        return models.Q(tag_id=int(term))
    if term[:1] == "l" and term[1:].isdigit():
        return models.Q(label_id=int(term[1:]))
    raise ValueError(f"{term!r} names no smart tag.")


class EmbeddingCache(models.Model):
    """An image's embedding (or a video's, one row per sampled frame), keyed by the file's hash and backbone."""

    file_hash = models.CharField(max_length=64)
    backbone_id = models.CharField(max_length=100)
    # float32 array in .npy format: a vector for an image, a (frames, dimension) matrix for a video.
    vector = models.BinaryField()
    # The backbone's own labels from the same pass, per row: [[[label, probability], ...], ...].
    labels = models.JSONField(default=list, blank=True)
    # {palette colour name: share of the pixels} over the image or the video's frames (ml.colours); null
    # when cached while colour tags were off, so that turning them on decodes the file once more.
    colours = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file_hash", "backbone_id"], name="smarttags_embedding_unique"),
        ]

    def __str__(self):
        return f"{self.backbone_id}:{self.file_hash[:12]}"

    @property
    def array(self):
        return decode_array(self.vector)

    @staticmethod
    def encode(array):
        return encode_array(array)


class TaggingState(AssetReference):
    """Where an asset stands in the tagging pipeline."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Tagged")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    #: Why the asset failed, was skipped or waits, in English (logs, the API); ``error_record`` keeps the
    #: same message untranslated with its parameters, so that each editor reads it in their language.
    error = models.TextField(blank=True)
    error_record = models.JSONField(default=dict, blank=True)
    # What identified the file when the asset was last queued or tagged; a change means re-tag.
    file_name = models.CharField(max_length=255, blank=True)
    file_hash = models.CharField(max_length=64, blank=True)
    # {tag model id: version id} applied at the last tagging.
    model_versions = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker holds the asset in its batch, so that other workers take other assets.
    claimed_at = models.DateTimeField(null=True, blank=True)
    tagged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="smarttags_state_unique"),
        ]
        indexes = [models.Index(fields=["status"], name="smarttags_state_status")]

    def __str__(self):
        return f"{self.content_type.model} {self.object_id}: {self.status}"

    def mark(self, status, record=None):
        """Set ``status`` and its message, a record from ``ml.errors.message_record`` (none when done)."""
        for name, value in self.outcome(status, record).items():
            setattr(self, name, value)
        if status in (self.Status.DONE, self.Status.FAILED, self.Status.SKIPPED):
            self.tagged_at = timezone.now()

    @staticmethod
    def outcome(status, record=None):
        """The fields that record ``status`` with the message ``record``, for ``update()`` and the like."""
        record = record or {}
        return {"status": status, "error": format_record(record) if record else "", "error_record": record}

    @property
    def error_message(self):
        """The message in the active language: what editors read."""
        if not self.error_record:
            return self.error
        return render_message(self.error_record)


class ScheduledRun(models.Model):
    """The next run of a periodic task on a task queue that schedules one run at a time (Django's tasks)."""

    task_path = models.CharField(max_length=255, unique=True)
    backend = models.CharField(max_length=100)
    result_id = models.CharField(max_length=255)
    run_after = models.DateTimeField()

    def __str__(self):
        return f"{self.task_path} after {self.run_after:%Y-%m-%d %H:%M}"
