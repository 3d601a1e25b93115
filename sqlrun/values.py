"""Value classes for the modules a start imports: ``@value`` is ``@dataclass(frozen=True)`` at a fraction of the cost.

Every container start runs sqlrun with nothing pending, so what that run imports is paid each time.
``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``), then compiles six methods
for each class it decorates: on the no-op run that was ~20 ms of CPU for the import and ~1 ms per class,
a third of the run (docs/benchmarks.md, "Start-up"). Here a class's first instances are made by one shared
``__init__``, its own is compiled only once it has made a few, and the other methods are shared. Modules a
no-op run never imports keep ``@dataclass``.

To the standard library these classes are still dataclasses: ``dataclasses.fields``, ``replace``,
``asdict`` and ``is_dataclass`` work on them, through a ``__dataclass_fields__`` built on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    _C = TypeVar("_C", bound=type)

_MISSING: Any = object()  # no default
_FACTORY: Any = object()  # the parameter's default when the field has a default_factory


class Field:
    """A field's default, default factory and whether it shows in ``repr`` (like ``dataclasses.field``)."""

    __slots__ = ("default", "default_factory", "repr")

    def __init__(self, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True) -> Any:
    """A field with a default factory or hidden from ``repr`` (``dataclasses.field``'s keywords)."""
    return Field(default, default_factory, repr)


def value(cls: _C | None = None, *, frozen: bool = True, repr: bool = True) -> Any:
    """Make ``cls`` a value class: ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, frozen unless told."""
    if cls is None:
        return lambda c: _build(c, frozen, repr)
    return _build(cls, frozen, repr)


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of ``obj`` with ``changes`` (``dataclasses.replace`` for value classes, without importing it)."""
    for name in obj.__value_fields__:
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)


def _build(cls: _C, frozen: bool, show: bool) -> _C:
    specs = _specs(cls)
    names = tuple(specs)
    cls.__value_fields__ = names  # type: ignore[attr-defined]
    cls.__value_frozen__ = frozen  # type: ignore[attr-defined]
    cls.__init__ = _LazyInit(specs, frozen, hasattr(cls, "__post_init__"))  # type: ignore[misc]
    for name, spec in specs.items():  # as dataclasses leaves them: the class attribute is the plain default
        if isinstance(cls.__dict__.get(name), Field):
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
    if show and "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr  # type: ignore[assignment]
        cls.__value_repr__ = tuple(n for n, s in specs.items() if s.repr)  # type: ignore[attr-defined]
    cls.__eq__ = _eq  # type: ignore[assignment]
    cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen  # type: ignore[assignment]
        cls.__delattr__ = _frozen  # type: ignore[assignment]
    cls.__match_args__ = names  # type: ignore[attr-defined]
    cls.__dataclass_fields__ = _DataclassFields()  # type: ignore[attr-defined]
    return cls


def _specs(cls: type) -> dict[str, Field]:
    """Each field (inherited ones first) with its Field; a plain class attribute is the default."""
    specs: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for name in getattr(base, "__value_fields__", ()):
            specs[name] = base.__value_specs__[name]  # type: ignore[attr-defined]
    for name in cls.__dict__.get("__annotations__", {}):
        given = cls.__dict__.get(name, _MISSING)
        specs[name] = given if isinstance(given, Field) else Field(given)
    cls.__value_specs__ = specs  # type: ignore[attr-defined]
    return specs


def _init(cls: type, specs: dict[str, Field], frozen: bool) -> Callable[..., None]:
    """One compiled ``__init__`` with the fields as parameters, in order, defaults and factories as dataclasses has them."""
    scope: dict[str, Any] = {"_set": object.__setattr__ if frozen else setattr, "_FACTORY": _FACTORY}
    params, body = [], []
    for i, (name, spec) in enumerate(specs.items()):
        if spec.default_factory is not None:
            scope[f"_f{i}"] = spec.default_factory
            params.append(f"{name}=_FACTORY")
            body.append(f"  _set(self, {name!r}, _f{i}() if {name} is _FACTORY else {name})")
            continue
        if spec.default is _MISSING:
            params.append(name)
        else:
            scope[f"_d{i}"] = spec.default
            params.append(f"{name}=_d{i}")
        body.append(f"  _set(self, {name!r}, {name})")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(source, scope)  # noqa: S102 - our own text, built from the class's field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _values(obj: Any) -> tuple:
    return tuple(getattr(obj, n) for n in obj.__value_fields__)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__value_repr__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen(self: Any, name: str, *args: Any) -> None:
    from dataclasses import FrozenInstanceError  # only now: a frozen value being assigned to is a bug, not a start

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


# Instances a class makes through the shared __init__ before it compiles its own: compiling costs ~90 us, binding
# arguments by hand a few more us per instance than a compiled __init__, and a start makes a handful of most.
COMPILE_AFTER = 16


def _shared_init(specs: dict[str, Field], frozen: bool, post_init: bool) -> Callable[..., None]:
    """An ``__init__`` that binds the fields by hand, as the compiled one would, without compiling anything."""
    names = tuple(specs)
    put = object.__setattr__ if frozen else setattr
    required = sum(1 for spec in specs.values() if spec.default is _MISSING and spec.default_factory is None)
    takes = f"{len(names) + 1}" if required == len(names) else f"from {required + 1} to {len(names) + 1}"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise _refused(self, f"takes {takes} positional arguments but {len(args) + 1} were given")
        for name, arg in zip(names, args):
            if name in kwargs:
                raise _refused(self, f"got multiple values for argument {name!r}")
            put(self, name, arg)
        for name in names[len(args) :]:
            spec = specs[name]
            if name in kwargs:
                put(self, name, kwargs.pop(name))
            elif spec.default_factory is not None:
                put(self, name, spec.default_factory())
            elif spec.default is not _MISSING:
                put(self, name, spec.default)
            else:
                raise _refused(self, f"missing 1 required positional argument: {name!r}")
        if kwargs:
            raise _refused(self, f"got an unexpected keyword argument {next(iter(kwargs))!r}")
        if post_init:
            self.__post_init__()

    return __init__


def _refused(obj: Any, why: str) -> TypeError:
    """The TypeError a compiled ``__init__`` would raise for the same call."""
    return TypeError(f"{type(obj).__qualname__}.__init__() {why}")


class _LazyInit:
    """A class's ``__init__``: for its first instances a shared one that binds arguments by hand; compiled once
    the class has made COMPILE_AFTER, or when anything else looks it up (``help``, ``inspect.signature``).
    Compiling is most of what a class costs, and a start makes few instances of most."""

    def __init__(self, specs: dict[str, Field], frozen: bool, post_init: bool) -> None:
        self.specs, self.frozen = specs, frozen
        self.shared = _shared_init(specs, frozen, post_init)
        self.made = 0  # not locked: a race only compiles a little earlier or later

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is not None and self.made < COMPILE_AFTER:  # an instance being made (type.__call__ binds __init__)
            self.made += 1
            return self.shared.__get__(obj, cls)
        owner = self._owner(cls if cls is not None else type(obj))
        init = _init(owner, self.specs, self.frozen)
        owner.__init__ = init  # type: ignore[misc]  # from now on the class has a plain function
        return init if obj is None else init.__get__(obj, cls)

    def _owner(self, cls: type) -> type:
        """The class this __init__ belongs to (``cls`` may be a subclass that inherits it)."""
        for klass in cls.__mro__:
            if klass.__dict__.get("__init__") is self:
                return klass
        raise AssertionError("a lazy __init__ outside its class")


class _DataclassFields:
    """``__dataclass_fields__`` built when the standard library first asks, from an equivalent dataclass."""

    def __get__(self, obj: Any, cls: type) -> dict[str, Any]:
        import dataclasses

        specs: dict[str, Field] = cls.__value_specs__  # type: ignore[attr-defined]
        annotations: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            annotations.update(klass.__dict__.get("__annotations__", {}))
        fields = []
        for name, spec in specs.items():
            if spec.default_factory is not None:
                made = dataclasses.field(default_factory=spec.default_factory, repr=spec.repr)
            else:
                made = dataclasses.field(default=spec.default if spec.default is not _MISSING else dataclasses.MISSING, repr=spec.repr)
            fields.append((name, annotations.get(name, "Any"), made))
        twin = dataclasses.make_dataclass(cls.__name__, fields, frozen=cls.__value_frozen__)  # type: ignore[attr-defined]
        cls.__dataclass_fields__ = twin.__dataclass_fields__  # type: ignore[attr-defined]  # asked once per class
        return twin.__dataclass_fields__
