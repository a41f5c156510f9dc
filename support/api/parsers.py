"""The API's JSON parser: bounded nesting and bounded numbers, so a hostile body is a 400, not a 500."""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from support.bounds import ID_MAX, JSON_MAX_DEPTH


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _bounded_int(text: str) -> int:
    # int() of a huge digit string is itself slow (and limited by sys.set_int_max_str_digits).
    if len(text.lstrip("-")) > len(str(ID_MAX)) or abs(number := int(text)) > ID_MAX:
        raise ParseError("A number in the body is too large.")
    return number


def _no_constant(name: str) -> None:
    raise ParseError(f"{name} is not a number this API accepts.")


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


class BoundedJSONParser(JSONParser):
    """JSON with at most JSON_MAX_DEPTH levels of nesting, whole numbers within ±ID_MAX, and no
    NaN or Infinity. Python's own decoder recurses, so very deep nesting is caught as RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            # DRF reads the body from the stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise BodyTooLarge(f"The body is too large: at most {limit // 1024} KB.")
            data = json.loads(raw.decode(encoding), parse_int=_bounded_int, parse_constant=_no_constant)
        except RecursionError:
            raise ParseError(f"The body nests more than {JSON_MAX_DEPTH} levels deep.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _too_deep(data, JSON_MAX_DEPTH):
            raise ParseError(f"The body nests more than {JSON_MAX_DEPTH} levels deep.")
        return data
