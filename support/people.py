"""How a person is named wherever people read it: pages, PDFs, e-mails and exports.

One helper (``person_name``, and the ``person`` template filter in ``support_tags``), so no page says
"by lead_a". Usernames stay where a machine or an auditor needs the identity: the audit log's actor
label, the API's ``*_by`` fields and the subject-access export.
"""

from django.contrib.auth.models import AbstractBaseUser

NO_NAME = "a colleague with no name recorded"


def person_name(user: AbstractBaseUser | None) -> str:
    """A person's full name, never their username; "" for nobody (so templates can ``|default:``)."""
    if user is None:
        return ""
    return user.get_full_name().strip() or NO_NAME
