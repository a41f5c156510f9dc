"""The impact report has no API of its own yet: its figures leave through the page, the PDF and the
exports only (each suppressed and audited)."""

urlpatterns: list = []
