"""A name -> object registry with a decorator that rejects duplicates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from tabular.errors import DuplicateRegistrationError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Components registered by name; ``register`` is a decorator.

    >>> spaces: Registry[type] = Registry("space")
    >>> @spaces.register("toy")
    ... class Toy: ...
    >>> spaces.get("toy") is Toy
    True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if name in self._items and self._items[name] is not obj:
            raise DuplicateRegistrationError(
                f"{self.kind} {name!r} is already registered by {self._items[name]!r}"
            )
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, list(self._items)) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
