"""``@value`` classes behave as ``@dataclass(frozen=True)`` ones do, to sqlrun and to the standard library."""

from __future__ import annotations

import dataclasses

import pytest

from sqlrun.model import Options, Result, ScriptResult
from sqlrun.values import field, replace, value


@value
class Point:
    """A test value."""

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="s", repr=False)


@dataclasses.dataclass(frozen=True)
class Twin:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    secret: str = dataclasses.field(default="s", repr=False)


@value(frozen=False)
class Counter:
    """A mutable test value."""

    n: int = 0
    seen: set[str] = field(default_factory=set)


def test_init_repr_and_defaults_match_a_dataclass() -> None:
    for cls in (Point, Twin):
        p = cls(1, tags=["a"])
        assert (p.x, p.y, p.tags, p.secret) == (1, 0, ["a"], "s")
        assert cls(2).tags is not cls(2).tags  # a fresh list each time, as default_factory promises
    assert repr(Point(1, 2)) == repr(Twin(1, 2)).replace("Twin", "Point") == "Point(x=1, y=2, tags=[])"
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, nope=3)  # type: ignore[call-arg]
    assert Point.y == 0 and Point.secret == "s"  # the class attribute holds the plain default, as with dataclasses


def test_equality_hash_and_frozenness() -> None:
    assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(1, 3)
    assert Point(1) != Twin(1)  # another class never compares equal, even with the same fields
    frozen = Point(1, 2, (), "a")  # type: ignore[arg-type]  # hashable fields, as a dataclass needs too
    assert hash(frozen) == hash(Point(1, 2, (), "a")) and {frozen: "a"}[Point(1, 2, (), "a")] == "a"  # type: ignore[arg-type]
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x


def test_a_mutable_value_can_change_and_is_unhashable_like_a_dataclass() -> None:
    c = Counter()
    c.n += 1
    c.seen.add("a")
    assert c == Counter(1, {"a"}) and Counter().seen is not Counter().seen
    with pytest.raises(TypeError):
        hash(c)


def test_replace_keeps_the_other_fields_and_runs_post_init() -> None:
    p = Point(1, 2, ["t"], "x")
    assert replace(p, y=5) == Point(1, 5, ["t"], "x")
    with pytest.raises(Exception, match="--wait"):
        replace(Options(), wait=-1.0)  # Options.__post_init__ refuses it, through replace too


def test_the_standard_library_still_sees_dataclasses() -> None:
    r = Result("db", (ScriptResult(1, "init", "001_init.sql", 3, 0, 7, "applied"),))
    assert dataclasses.is_dataclass(r) and dataclasses.is_dataclass(Result)
    assert dataclasses.asdict(r)["scripts"][0]["statements"] == 3
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y", "tags", "secret"]
    assert not dataclasses.fields(Point)[3].repr
    assert dataclasses.replace(Options(), lock="none").lock == "none"
    assert dataclasses.replace(Point(1, tags=["a"]), x=2) == Point(2, tags=["a"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        dataclasses.replace(Options(), wait=1.0).wait = 2.0  # type: ignore[misc]


def test_the_init_is_compiled_when_first_looked_up_and_then_is_a_plain_function() -> None:
    import inspect

    @value
    class Late:
        """Never instantiated before the signature is asked for."""

        a: int
        b: str = "x"

    assert list(inspect.signature(Late).parameters) == ["a", "b"]  # help() and IDEs see the real parameters
    assert inspect.isfunction(Late.__dict__["__init__"])

    @value
    class Base:
        """A value class another one inherits from."""

        a: int

    class Child(Base):
        pass

    assert Child(1).a == 1 and Base(2) == Base(2)  # the first instance is a subclass's: the base's init serves it
    with pytest.raises(TypeError):
        Base()  # type: ignore[call-arg]


def test_the_shared_init_and_the_compiled_one_agree() -> None:
    # A class's first COMPILE_AFTER instances are made by a shared __init__ that binds by hand; then its own is
    # compiled. Both must accept, default and refuse the same calls.
    from sqlrun.values import COMPILE_AFTER, _LazyInit

    def build() -> type:
        @value
        class Pair:
            """Made fresh for each side."""

            a: int
            b: int = 2
            tags: list[str] = field(default_factory=list)

            def __post_init__(self) -> None:
                if self.a < 0:
                    raise ValueError("negative")

        return Pair

    calls = [((1,), {}), ((1, 3), {}), ((), {"a": 4}), ((1,), {"tags": ["t"]}), ((1, 2, ["x"]), {}), ((), {}),
             ((1,), {"a": 2}), ((1, 2, [], 4), {}), ((1,), {"nope": 1}), ((-1,), {})]
    shared, compiled = build(), build()
    for _ in range(COMPILE_AFTER + 1):
        compiled(0)
    assert isinstance(shared.__dict__["__init__"], _LazyInit)
    assert not isinstance(compiled.__dict__["__init__"], _LazyInit)  # compiled after COMPILE_AFTER instances
    for args, kwargs in calls:
        outcomes = []
        for cls in (shared, compiled):
            try:
                made = cls(*args, **kwargs)
                outcomes.append(("made", made.a, made.b, made.tags))
            except (TypeError, ValueError) as exc:
                outcomes.append((type(exc).__name__, str(exc).split(".", 1)[-1]))
        assert outcomes[0] == outcomes[1], (args, kwargs)
    assert shared(1).tags is not shared(1).tags
