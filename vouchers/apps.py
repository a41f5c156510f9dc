from django.apps import AppConfig


class VouchersConfig(AppConfig):
    """Voucher types, vouchers, redemption and voucher PDFs (built on the support core)."""

    name = "vouchers"
