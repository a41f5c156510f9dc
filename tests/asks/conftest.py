import pytest

from asks.models import AskLink
from tests.asks.i18n import compile_asks_messages


@pytest.fixture(scope="session", autouse=True)
def _asks_messages():
    compile_asks_messages()


@pytest.fixture
def link_a(school_a):
    return AskLink.objects.create(school=school_a, code="alpha7")


@pytest.fixture
def link_b(school_b):
    return AskLink.objects.create(school=school_b, code="beta77")
