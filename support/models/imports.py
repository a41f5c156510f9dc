from django.conf import settings
from django.db import models

from support.models.schools import School


class PupilImport(models.Model):
    """An uploaded school information system export, previewed before it is applied.

    The file itself is kept only while it is needed: its content is deleted once it is applied, fails
    or is rejected, and a preview nobody applies expires after the policy's ``pupil_upload_days``.
    """

    class Status(models.TextChoices):
        REJECTED = "rejected", "Rejected: the file has errors"
        PREVIEWED = "previewed", "Ready to apply"
        QUEUED = "queued", "Applying"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired: not applied in time"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    status = models.CharField(max_length=10, choices=Status.choices)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    content_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} for {self.school} ({self.get_status_display()})"
