"""Finance's doors onto the fund: the dashboard and reports, the ledger and exports, approvals.

The money rules themselves live in ``support.fund`` (services) and ``support.approvals``.
"""
