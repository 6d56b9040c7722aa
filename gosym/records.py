"""Record: the base of gosym's small value classes (sections, segments,
table descriptions, symbols), without the dataclasses module.

`import dataclasses` imports inspect (and with it dis, ast, tokenize...),
about a fifth of the start-up of a `gosym lookup` process, which a profiler
may start once per binary.  A Record subclass declares its fields as
annotated class attributes, as a dataclass does (a value after `=` is the
default; a list or dict default is copied for each instance); it gets a generated
__init__ with those parameters, __repr__ and __eq__ over the fields (those
named with a leading underscore are left out of both), and with
`frozen=True` immutability and __hash__; `__fields__` names the fields in
order.  Nothing else: no ordering, no
field() options.  Only direct subclasses of Record are records: a subclass
of one of them is a plain subclass, as an undecorated subclass of a
dataclass is.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Tuple

    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_kw):
        return lambda cls: cls

_MISSING = object()


@dataclass_transform(eq_default=True)
class Record:
    """Record is the base of gosym's value classes: fields from the class's
    annotations, a generated __init__, __repr__ and __eq__ over them, and
    with `frozen=True` no assignment after __init__ and a __hash__."""

    __fields__: "Tuple[str, ...]" = ()

    def __init_subclass__(cls, frozen: bool = False, **kw: "Any") -> None:
        super().__init_subclass__(**kw)
        if Record not in cls.__bases__:
            return      # a subclass of a record class is a plain subclass (keeps its __init__)
        own = [k for k in vars(cls).get("__annotations__", {}) if not k.startswith("__")]
        fields = tuple(f for f in cls.__fields__ if f not in own) + tuple(own)
        defaults: "Dict[str, Any]" = {}
        for base in reversed(cls.__mro__):
            for f in fields:
                v = vars(base).get(f, _MISSING)
                if v is not _MISSING and not callable(v) and not isinstance(v, property):
                    defaults[f] = v
        params, body = [], []
        for f in fields:
            if f in defaults:
                params.append(f"{f}=_d[{f!r}]")
                value = f"{type(defaults[f]).__name__}({f})" if type(defaults[f]) in (list, dict) else f
            else:
                if any(p.endswith("]") for p in params):
                    raise TypeError(f"{cls.__name__}: field {f} without a default follows one with a default")
                params.append(f)
                value = f
            body.append(f"_set(self, {f!r}, {value})")
        src = f"def __init__(self, {', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
        scope: "Dict[str, Any]" = {"_d": defaults, "_set": object.__setattr__}
        exec(src, scope)  # noqa: S102 - generated from the class's own field names
        init = scope["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        init.__doc__ = None
        cls.__init__ = init  # type: ignore[misc,method-assign]
        cls.__fields__ = fields
        if frozen:
            cls.__hash__ = Record._hash  # type: ignore[assignment]
            cls.__setattr__ = Record._no_set  # type: ignore[method-assign,assignment,misc]
            cls.__delattr__ = Record._no_del  # type: ignore[method-assign,assignment,misc]

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(" + ", ".join(
            f"{f}={getattr(self, f)!r}" for f in self.__fields__ if f[0] != "_") + ")"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.__fields__ if f[0] != "_")

    __hash__ = None  # type: ignore[assignment]

    def _hash(self) -> int:
        return hash(tuple(getattr(self, f) for f in self.__fields__ if f[0] != "_"))

    def _no_set(self, name: str, value: "Any") -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def _no_del(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


__all__ = ["Record"]
