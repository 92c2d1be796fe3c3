"""Names derived from spec names: classes, constants, enum members."""

from __future__ import annotations

import keyword
import re
from functools import lru_cache


@lru_cache(maxsize=None)  # called per field of thousands of classes
def camel(name: str) -> str:
    """`created_at` -> `CreatedAt`; already-camel names keep their inner capitals."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name) if part)


@lru_cache(maxsize=None)
def upper_snake(name: str) -> str:
    """`user_registered` / `userRegistered` / `user-registered` -> `USER_REGISTERED`."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    words = [word for word in re.split(r"[^0-9A-Za-z]+", spaced) if word]
    constant = "_".join(words).upper() or "VALUE"
    if constant[0].isdigit() or keyword.iskeyword(constant):
        constant = "V_" + constant
    return constant


def enum_class(model: str, field: str) -> str:
    """A field's enum class, shared by the model and its variants: `UserRole`."""
    return model + camel(field)
