"""One transitions table per stateful model: which moves exist, from which states, to which.

An app declares its model's table once (``uniform/transitions.py``, ``vouchers/transitions.py``,
``funds/transitions.py``). Everything that moves or offers to move an object reads it:

- the services move with ``Transitions.claim``: one conditional ``UPDATE ... WHERE pk = %s AND
  status = <source>`` per source of the move (0 rows: someone else moved it first, or it never could),
  so two people pressing the same button cannot both win and no row is read, changed and saved;
- the pages show the buttons ``Transitions.moves_from`` gives for the object's state (each door then
  narrows by who is asking);
- the API takes each manual move's permission from the table.

A move the table does not allow from the object's state is refused with a ``ConflictError`` naming
the state ("This request is ordered, so it cannot be approved."). A move to a state the move does not
lead to is a programming error (``ValueError``), never a silent write.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from support.errors import ConflictError


@dataclass(frozen=True)
class Move:
    """One named move. ``permission`` is what a user needs to make it by hand (a button, an API action);
    ``None`` marks a move only the system makes (finance's decision reaching a request, nightly expiry).
    ``doing`` ends the refusal sentence: "so it cannot be <doing>"."""

    name: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    permission: str | None = None
    doing: str = ""
    lead: bool = False  # a lead of the object's school makes it (other staff at the school do not)

    @property
    def manual(self) -> bool:
        return self.permission is not None


class Transitions:
    """The table of one model's moves, read by its services, pages and API."""

    def __init__(
        self,
        model: type[models.Model],
        *,
        field: str,
        initial: str,
        moves: Iterable[Move],
        noun: str = "",
    ) -> None:
        self.model = model
        self.field = field
        self.initial = initial
        self.noun = noun or model._meta.verbose_name
        self.moves: dict[str, Move] = {}
        states = set(self.states)
        for move in moves:
            if move.name in self.moves:
                raise ValueError(f"{model.__name__}: the move {move.name!r} is declared twice")
            unknown = (set(move.sources) | set(move.targets)) - states
            if unknown:
                raise ValueError(f"{model.__name__}.{move.name}: unknown states {sorted(unknown)}")
            self.moves[move.name] = move

    @property
    def states(self) -> list[str]:
        return [value for value, _label in self.model._meta.get_field(self.field).choices]

    def __getitem__(self, name: str) -> Move:
        return self.moves[name]

    def moves_from(self, state: str, *, manual: bool = True) -> list[Move]:
        """The moves open from ``state``, in the table's order (the order the buttons show in)."""
        return [m for m in self.moves.values() if state in m.sources and (m.manual or not manual)]

    def action_permissions(self, *names: str) -> dict[str, str]:
        """``{api action: permission}`` for the manual moves ``names`` (an API action is the move's name
        with ``_`` for ``-``), for a viewset's ``permissions``."""
        return {name.replace("-", "_"): self.moves[name].permission for name in names}  # type: ignore[misc]

    def edges(self) -> set[tuple[str, str]]:
        """Every (from, to) pair some move allows."""
        return {(source, target) for m in self.moves.values() for source in m.sources for target in m.targets}

    def refusal(self, obj: models.Model, name: str) -> ConflictError:
        """Why ``name`` cannot be made from ``obj``'s state, as the user reads it."""
        state = getattr(obj, self.field)
        label = dict(self.model._meta.get_field(self.field).choices).get(state, state)
        move = self.moves[name]
        return ConflictError(
            f"This {self.noun} is {str(label).lower()}, so it cannot be {move.doing or move.name}.",
            code=f"already_{state}",
        )

    def check(self, obj: models.Model, name: str) -> None:
        """Refuse ``name`` unless the table allows it from ``obj``'s state as last read."""
        if getattr(obj, self.field) not in self.moves[name].sources:
            raise self.refusal(obj, name)

    def claim(
        self,
        obj: models.Model,
        name: str,
        *,
        target: str | None = None,
        where: Q | None = None,
        touch: str | None = "updated_at",
        **fields: Any,
    ) -> str:
        """Make move ``name`` on ``obj`` to ``target`` (the move's only target when not given) with one
        conditional update per source; ``where`` adds conditions of the caller's own (not expired,
        not approved first by the same person).

        Returns the state it came from. ``obj`` is re-read either way; when no source matched, a
        ``ConflictError`` names the state it is in now.
        """
        move = self.moves[name]
        if target is None:
            if len(move.targets) != 1:
                raise ValueError(f"{self.model.__name__}.{name} leads to {move.targets}: name the target")
            target = move.targets[0]
        if target not in move.targets:
            raise ValueError(f"{self.model.__name__}.{name} does not lead to {target!r}")
        values = {self.field: target, **fields}
        if touch:
            values[touch] = timezone.now()
        before = None
        # One update per source rather than ``IN``, so the audit says truly where it came from.
        for source in move.sources:
            rows = self.model._default_manager.filter(where or Q(), pk=obj.pk, **{self.field: source})
            if rows.update(**values):
                before = source
                break
        obj.refresh_from_db()
        if before is None:
            raise self.refusal(obj, name)
        return before
