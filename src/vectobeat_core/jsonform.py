"""One JSON form for the core's attrs classes: how a value becomes JSON and how it is read back.

A class's form is derived from its attrs fields and their types, once per class: its two
functions are generated and cached (`form`), so a call costs what a hand-written
``to_json``/``from_json`` did. Field metadata (`json_key`) renames a key, leaves a default value
out, or hooks an odd field; `json_form` names the class in errors and picks its error; `register`
adds a type that is not an attrs class. The rules, in one place:

* **Keys.** The attribute name, unless `json_key` gives one. Written in field order, the keys that
  may be left out (``omit=True``: left out while the value equals its default) after the others.
* **Reading.** A key may be missing only when its field has a default (`json_key`'s, else the
  attrs default); unknown keys are ignored, or refused when the form is ``strict``.
* **Types.** ``str``, ``int`` (a ``bool`` is not one), ``float`` (an ``int`` reads as one),
  ``bool`` and ``X | None``; enums by value; ``Literal`` values; Discord snowflakes (`GuildId`,
  `UserId`, `ChannelId`, `RoleId`) as decimal text, since they exceed JavaScript's integers;
  other ``NewType`` ids as their base type; a `Phrase` (text for a person) as
  `vectobeat_core.messages.phrase_json` writes it; classes with a form, nested; ``tuple[X, ...]``,
  ``list[X]`` and ``frozenset[X]`` (sorted) as lists; ``dict``/``Mapping`` with text keys; JSON
  values (`vectobeat_core.jsontypes.JSON`) as they are (a shallow copy of an object): the class
  checks them.
* **Errors.** Input that cannot be read raises the class's error (an `InvalidInput`) naming the
  field; an `InvalidInput` from a hook, a registered type or the constructor becomes the class's
  error with the same message. A type with no rule fails when its form is built (a bug, not input).

Why not cattrs: importing cattrs and building a converter adds 2.4 MiB RSS and 42 modules to every
process (measured), and the bot's memory goal (issue 18: at most 1.5x a bare discord.py bot) has
no room left for it. This module needs only the standard library and attrs.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, NamedTuple, TypeVar, cast, overload

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import ChannelId, GuildId, RoleId, UserId
from vectobeat_core.jsontypes import JSON, JSONObject, snowflake
from vectobeat_core.messages import Phrase, phrase_json, read_phrase

__all__ = [
    "JsonForm",
    "dump",
    "dump_method",
    "form",
    "json_form",
    "json_key",
    "load",
    "load_method",
    "register",
]

T = TypeVar("T")
Dumper = Callable[[Any], Any]
Loader = Callable[[Any], Any]

_META: Final = "vectobeat_core.jsonform"
_SNOWFLAKES: Final[tuple[object, ...]] = (GuildId, UserId, ChannelId, RoleId)


class _Primitive(NamedTuple):
    inline: str
    """The test a good value ``{v}`` passes, as code the generated reader inlines."""
    test: Callable[[Any], bool]
    expected: str


_PRIMITIVES: Final[dict[object, _Primitive]] = {
    str: _Primitive("isinstance({v}, str)", lambda v: isinstance(v, str), "a string"),
    int: _Primitive(
        "{v}.__class__ is not bool and isinstance({v}, int)",
        lambda v: v.__class__ is not bool and isinstance(v, int),
        "an integer",
    ),
    bool: _Primitive("{v}.__class__ is bool", lambda v: v.__class__ is bool, "true or false"),
    float: _Primitive(
        "{v}.__class__ is float or ({v}.__class__ is not bool and isinstance({v}, int))",
        lambda v: v.__class__ is float or (v.__class__ is not bool and isinstance(v, int)),
        "a number",
    ),
}


class _Key(NamedTuple):
    key: str | None = None
    omit: bool = False
    default: object = attrs.NOTHING
    dump: Dumper | None = None
    load: Loader | None = None


def json_key(
    key: str | None = None,
    *,
    omit: bool = False,
    default: object = attrs.NOTHING,
    dump: Dumper | None = None,
    load: Loader | None = None,
) -> dict[str, object]:
    """Field metadata (``attrs.field(metadata=json_key("e"))``): the JSON ``key``; ``omit`` the
    key while the value equals the default; ``default`` for a missing key when the attrs field has
    none; ``dump``/``load`` hooks replacing the type's rule (``load`` raises `InvalidInput`)."""
    return {_META: _Key(key, omit, default, dump, load)}


class _Options(NamedTuple):
    what: str
    error: type[InvalidInput] = InvalidInput
    strict: bool = False


_OPTIONS: dict[type, _Options] = {}
_TYPES: dict[object, tuple[Dumper, Loader]] = {}


def json_form(
    *, what: str, error: type[InvalidInput] = InvalidInput, strict: bool = False
) -> Callable[[type[T]], type[T]]:
    """Class decorator (above ``@attrs.frozen``): errors name the class as ``what`` (``"Stored
    track"``) and are ``error``s; a ``strict`` form refuses unknown keys."""

    def mark(cls: type[T]) -> type[T]:
        _OPTIONS[cls] = _Options(what, error, strict)
        return cls

    return mark


def register(tp: type[T], *, dump: Callable[[T], Any], load: Callable[[Any], T]) -> None:
    """Add a type that is not an attrs class, before a form holding it is built; ``load``
    raises `InvalidInput`."""
    _TYPES[tp] = (dump, load)


class JsonForm(Generic[T]):
    """The generated ``dump`` and ``load`` of class ``cls``."""

    __slots__ = ("_dumpers", "cls", "dump", "load")

    def __init__(
        self,
        cls: type[T],
        dump: Callable[[T], JSONObject],
        load: Callable[[object], T],
        dumpers: dict[str, Dumper | None],
    ) -> None:
        self.cls = cls
        self.dump = dump
        self.load = load
        self._dumpers = dumpers

    @property
    def source(self) -> str:
        """The code of `dump` and `load` (generated again: it is not kept, to spare memory)."""
        return _Builder(self.cls).source(self._dumpers)

    def dump_field(self, name: str, value: object) -> Any:
        """One field's ``value`` as `dump` writes it."""
        dumper = self._dumpers[name]
        return value if dumper is None or value is None else dumper(value)


_FORMS: dict[type, JsonForm[Any]] = {}
_BUILDING: set[type] = set()


def form(cls: type[T]) -> JsonForm[T]:
    """The form of attrs class ``cls``, built on first use."""
    found = _FORMS.get(cls)
    if found is None:
        _BUILDING.add(cls)
        try:
            found = _FORMS[cls] = _Builder(cls).build()
        finally:
            _BUILDING.discard(cls)
    return found


class dump_method:
    """``to_json = dump_method()`` in a class body: the class's generated `JsonForm.dump` as its
    method, put in place on first use (a call then costs nothing on top of the generated code)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Callable[[Any], JSONObject]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> Callable[[], JSONObject]: ...
    def __get__(self, obj: object, owner: type) -> Callable[..., JSONObject]:
        function: Callable[[Any], JSONObject] = form(owner).dump
        setattr(owner, self._name, function)
        return function if obj is None else types.MethodType(function, obj)


class load_method:
    """``from_json = load_method()`` in a class body: the class's generated `JsonForm.load` as
    its class method, put in place on first use."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: object, owner: type[T]) -> Callable[[object], T]:
        function = form(owner).load
        setattr(owner, self._name, staticmethod(function))
        return function


def dump(value: object) -> JSONObject:
    """``value`` (an instance of an attrs class) as a JSON object."""
    found = _FORMS.get(type(value))
    return (found or form(type(value))).dump(value)


def load(cls: type[T], raw: object) -> T:
    """Read a ``cls`` from JSON ``raw``; unreadable input raises the class's error."""
    found: JsonForm[T] | None = _FORMS.get(cls)
    return (found or form(cls)).load(raw)


# --- building a form ----------------------------------------------------------------------------


def _shown(value: object) -> str:
    """A value as an error message quotes it: a scalar's repr (text cut at 40), else its type."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return type(value).__name__


def _optional(tp: object) -> object | None:
    """``X`` for ``X | None``, else None."""
    args = typing.get_args(tp)
    if _is_union(tp) and len(args) == 2 and type(None) in args:
        inner: object = args[0] if args[1] is type(None) else args[1]
        return inner
    return None


def _is_union(tp: object) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _is_json(tp: object) -> bool:
    """Whether ``tp`` is the JSON value union (`vectobeat_core.jsontypes.JSON` or an alias)."""
    if not _is_union(tp):
        return False
    origins = {typing.get_origin(arg) or arg for arg in typing.get_args(tp)}
    return {list, dict} <= origins <= {list, dict, str, int, float, bool, type(None)}


def _sequence(tp: object) -> object | None:
    """The item type of ``tuple[X, ...]``, ``list[X]`` or ``frozenset[X]``, else None."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, frozenset) or (origin is tuple and args[1:] == (...,)):
        item: object = args[0]
        return item
    return None


def _object(tp: object) -> object | None:
    """The value type of ``dict[str, X]`` or ``Mapping[str, X]``, else None."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    value: object = args[1] if origin in (dict, Mapping) and args[0] is str else None
    return value


def _no_rule(cls: type, tp: object) -> TypeError:
    return TypeError(f"{cls.__name__}: no JSON rule for {tp!r}; register one in jsonform")


def _raise(error: Exception) -> Any:
    raise error


class _Field(NamedTuple):
    """One attrs field as the generated code handles it; ``var`` holds its value in ``load``."""

    name: str
    alias: str
    key: str
    tp: object
    meta: _Key
    default: _Default
    var: str


class _Builder:
    """Generates the dump and load functions of one class."""

    def __init__(self, cls: type) -> None:
        options = _OPTIONS.get(cls) or _Options(cls.__name__)
        self.cls = cls
        self.what = options.what
        self.error = options.error
        self.strict = options.strict
        # ``JSON`` by name: the alias refers to itself, resolved where the class is, not here.
        self.hints = typing.get_type_hints(cls, localns={"JSON": JSON})
        self.fields = [self.field(i, a) for i, a in enumerate(attrs.fields(cls)) if a.init]
        self.keys = frozenset(f.key for f in self.fields)
        required = tuple(f.key for f in self.fields if f.default.kind == "required")
        fail = _Failure(self.error, self.what, self.keys, required)
        self.names: dict[str, object] = {
            "_cls": cls, "_E": self.error, "_Invalid": InvalidInput, "_Mapping": Mapping,
            "_M": attrs.NOTHING, "_fail": fail, "_keys": self.keys, "_bad": _bad,
        }  # fmt: skip

    def field(self, index: int, attribute: attrs.Attribute[Any]) -> _Field:
        meta: _Key = attribute.metadata.get(_META, _Key())
        return _Field(
            attribute.name, attribute.alias or attribute.name, meta.key or attribute.name,
            self.hints[attribute.name], meta, _default(attribute, meta), f"v{index}",
        )  # fmt: skip

    def bind(self, value: object) -> str:
        """``value`` in the generated code: a literal, or a name bound to it."""
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        name = f"_n{len(self.names)}"
        self.names[name] = value
        return name

    def build(self) -> JsonForm[Any]:
        dumpers = {f.name: f.meta.dump or self.dumper(f.tp) for f in self.fields}
        code = compile(self.source(dumpers), f"<jsonform {self.cls.__qualname__}>", "exec")
        exec(code, self.names)  # noqa: S102 (our own generated code, as attrs and dataclasses do)
        dump_function = cast(Callable[[Any], JSONObject], self.names["dump"])
        load_function = cast(Callable[[object], Any], self.names["load"])
        return JsonForm(self.cls, dump_function, load_function, dumpers)

    def source(self, dumpers: dict[str, Dumper | None]) -> str:
        return "\n".join([*self.dump_code(dumpers), "", *self.load_code()]) + "\n"

    # -- writing ----------------------------------------------------------------------------------

    def dump_code(self, dumpers: dict[str, Dumper | None]) -> list[str]:
        always = [self.item(f, dumpers[f.name]) for f in self.fields if not f.meta.omit]
        lines = ["def dump(o):", f"    out = {{{', '.join(always)}}}"]
        for field in self.fields:
            if field.meta.omit:
                lines += self.omittable(field, dumpers[field.name])
        return [*lines, "    return out"]

    def item(self, field: _Field, dumper: Dumper | None) -> str:
        """The ``key: value`` of a field always written."""
        value = f"o.{field.name}"
        if dumper is None:
            return f"{field.key!r}: {value}"
        call = f"{self.bind(dumper)}({value})"
        if field.meta.dump is None and _optional(field.tp) is not None:
            call = f"(None if {value} is None else {call})"
        return f"{field.key!r}: {call}"

    def omittable(self, field: _Field, dumper: Dumper | None) -> list[str]:
        """The statements writing a field left out while it equals its default."""
        kind, default = field.default
        if kind not in ("value", "factory"):
            raise TypeError(f"{self.cls.__name__}.{field.name}: omit needs a default value")
        plain = default() if kind == "factory" else default
        written = "v"
        if dumper is not None:
            written = f"{self.bind(dumper)}(v)"
            if field.meta.dump is None and _optional(field.tp) is not None and plain is not None:
                written = f"(None if v is None else {written})"
        if plain is None:
            test = "v is not None"
        elif not plain and not isinstance(plain, float):  # False, 0, "", empty: as fast as it gets
            test = "v"
        else:
            test = f"v != {self.bind(plain)}"
        return [
            f"    v = o.{field.name}",
            f"    if {test}:",
            f"        out[{field.key!r}] = {written}",
        ]

    # -- reading ----------------------------------------------------------------------------------

    def load_code(self) -> list[str]:
        lines = ["def load(raw):", "    if not isinstance(raw, _Mapping):"]
        lines.append("        raise _fail('object', raw)")
        if self.strict:
            lines += ["    if not raw.keys() <= _keys:", "        raise _fail('unknown', raw)"]
        required = [f for f in self.fields if f.default.kind == "required"]
        if required:
            lines += ["    try:", *(f"        {f.var} = raw[{f.key!r}]" for f in required)]
            lines += ["    except KeyError:", "        raise _fail('missing', raw) from None"]
        for field in self.fields:
            if field.default.kind != "required":
                lines.append(f"    {field.var} = raw.get({field.key!r}, _M)")
        lines.append("    try:")
        for field in self.fields:
            lines += [f"        {line}" for line in self.read(field)]
        arguments = ", ".join(map(self.argument, self.fields))
        return [
            *lines, f"        return _cls({arguments})", "    except _Invalid as exc:",
            "        if isinstance(exc, _E):", "            raise",
            "        raise _E(exc.message) from None",
        ]  # fmt: skip

    def argument(self, field: _Field) -> str:
        if field.default.kind == "self":  # the class computes it: passed only when given
            return f"**({{}} if {field.var} is _M else {{{field.alias!r}: {field.var}}})"
        return f"{field.alias}={field.var}"

    def read(self, field: _Field) -> list[str]:
        """The statements turning a field's input (``_M`` when missing) into its value."""
        convert = self.convert(field)
        kind, default = field.default
        if kind == "required":
            return convert
        if kind == "self":
            return [f"if {field.var} is not _M:", *_indent(convert)] if convert else []
        fallback = f"{self.bind(default)}()" if kind == "factory" else self.bind(default)
        lines = [f"if {field.var} is _M:", f"    {field.var} = {fallback}"]
        return [*lines, "else:", *_indent(convert)] if convert else lines

    def convert(self, field: _Field) -> list[str]:
        """The statements checking and converting a field's value, present in the input."""
        var, where = field.var, f"{self.what} field {field.name!r}"
        if field.meta.load is not None:
            return [f"{var} = {self.bind(field.meta.load)}({var})"]
        inner = _optional(field.tp)
        target = field.tp if inner is None else inner
        if _is_json(target):
            return []
        guard = "" if inner is None else f"{var} is not None and "
        base = getattr(target, "__supertype__", target)
        primitive = None if target in _TYPES or target in _SNOWFLAKES else _PRIMITIVES.get(base)
        if primitive is not None:
            expected = primitive.expected + (" or null" if inner is not None else "")
            lines = [
                f"if {guard}not ({primitive.inline.format(v=var)}):",
                f"    raise _bad(_E, {f'{where} must be {expected}'!r}, {var})",
            ]
            if base is float:
                lines += [f"if {guard}{var}.__class__ is not float:", f"    {var} = float({var})"]
            return lines
        loader = self.bind(self.loader(target, where))
        if inner is None:
            return [f"{var} = {loader}({var})"]
        return [f"if {var} is not None:", f"    {var} = {loader}({var})"]

    def complaint(self, where: str, expected: str) -> Callable[[object], InvalidInput]:
        error, problem = self.error, f"{where} must be {expected}"
        return lambda value: _bad(error, problem, value)

    # -- the rule of each type --------------------------------------------------------------------

    def dumper(self, tp: object) -> Dumper | None:
        """How a value of ``tp`` is written (None: as it is); a None value is the caller's."""
        inner = _optional(tp)
        if inner is not None:
            return self.dumper(inner)
        if tp in _TYPES:
            return _TYPES[tp][0]
        if tp in _SNOWFLAKES:
            return str
        if tp in _PRIMITIVES or _is_json(tp) or typing.get_origin(tp) is typing.Literal:
            return None
        if hasattr(tp, "__supertype__"):
            return self.dumper(tp.__supertype__)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _enum_value
        if isinstance(tp, type) and attrs.has(tp):
            return (lambda v: form(tp).dump(v)) if tp in _BUILDING else form(tp).dump
        item_type, value_type = _sequence(tp), _object(tp)
        if item_type is not None:
            item = self.dumper(item_type)
            if item is not None and _optional(item_type) is not None:
                item = _or_none(item)
            if typing.get_origin(tp) is frozenset:
                return sorted if item is None else lambda v: sorted(map(item, v))
            return list if item is None else lambda v: [item(x) for x in v]
        if value_type is not None:
            value = None if _is_json(value_type) else self.dumper(value_type)
            if value is not None and _optional(value_type) is not None:
                value = _or_none(value)
            return dict if value is None else lambda v: {k: value(x) for k, x in v.items()}
        raise _no_rule(self.cls, tp)

    def loader(self, tp: object, where: str) -> Loader:
        """How a value of ``tp`` is read (raising the class's error, or `InvalidInput`)."""
        inner = _optional(tp)
        if inner is not None:
            read = self.loader(inner, where)
            return lambda v: None if v is None else read(v)
        if tp in _TYPES:
            return _TYPES[tp][1]
        if tp in _SNOWFLAKES:
            return lambda v: snowflake(v, where)
        if _is_json(tp):
            return lambda v: v
        primitive = _PRIMITIVES.get(tp)
        if primitive is not None:
            test, bad = primitive.test, self.complaint(where, primitive.expected)
            if tp is float:
                return lambda v: float(v) if test(v) else _raise(bad(v))
            return lambda v: v if test(v) else _raise(bad(v))
        if hasattr(tp, "__supertype__"):
            return self.loader(tp.__supertype__, where)
        if typing.get_origin(tp) is typing.Literal:
            return self.choice(typing.get_args(tp), where)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self.member(tp, where)
        if isinstance(tp, type) and attrs.has(tp):
            return (lambda v: form(tp).load(v)) if tp in _BUILDING else form(tp).load
        item_type, value_type = _sequence(tp), _object(tp)
        if item_type is not None:
            item = self.loader(item_type, f"{where} (an item)")
            bad = self.complaint(where, "a list")
            build = cast(Callable[[Any], Any], typing.get_origin(tp))
            return lambda v: build(map(item, v)) if isinstance(v, list) else _raise(bad(v))
        if value_type is not None:
            return self.mapping(value_type, where)
        raise _no_rule(self.cls, tp)

    def mapping(self, value_type: object, where: str) -> Loader:
        bad = self.complaint(where, "a JSON object")
        if _is_json(value_type):
            return lambda v: v if isinstance(v, Mapping) else _raise(bad(v))
        value = self.loader(value_type, f"{where} (a value)")

        def read(v: object) -> dict[str, Any]:
            if not isinstance(v, Mapping) or not all(isinstance(k, str) for k in v):
                raise bad(v)
            return {k: value(x) for k, x in v.items()}

        return read

    def member(self, kind: type[enum.Enum], where: str) -> Loader:
        bad = self.complaint(where, "one of " + ", ".join(str(m.value) for m in kind))

        def read(v: object) -> enum.Enum:
            if v.__class__ is not bool:  # a bool is an int, never an enum's value here
                try:
                    return kind(v)
                except ValueError:
                    pass
            raise bad(v)

        return read

    def choice(self, allowed: tuple[object, ...], where: str) -> Loader:
        bad = self.complaint(where, "one of " + ", ".join(map(str, allowed)))

        def read(v: object) -> object:
            if any(v == a and v.__class__ is a.__class__ for a in allowed):
                return v
            raise bad(v)

        return read


_FACTORY: Final[type] = type(attrs.Factory(list))


class _Default(NamedTuple):
    kind: typing.Literal["required", "value", "factory", "self"]
    value: Any = None


def _default(field: attrs.Attribute[Any], meta: _Key) -> _Default:
    """How a missing key is filled: not at all (required), a value, a factory's, or the class's
    own default computed from the other fields (``self``)."""
    default: Any = field.default if meta.default is attrs.NOTHING else meta.default
    if default is attrs.NOTHING:
        return _Default("required")
    if isinstance(default, _FACTORY):
        factory: Any = default
        return _Default("self") if factory.takes_self else _Default("factory", factory.factory)
    return _Default("value", default)


def _bad(error: type[InvalidInput], problem: str, value: object) -> InvalidInput:
    return error(f"{problem}, got {_shown(value)}.")


class _Failure(NamedTuple):
    """What is wrong with an input as a whole: not an object, unknown or missing keys."""

    error: type[InvalidInput]
    what: str
    keys: frozenset[str]
    required: tuple[str, ...]

    def __call__(self, kind: str, raw: Mapping[str, object]) -> InvalidInput:
        if kind == "object":
            return self.error(f"{self.what} must be a JSON object, got {_shown(raw)}.")
        if kind == "unknown":
            extra = ", ".join(sorted(str(k) for k in raw if k not in self.keys))
            return self.error(f"{self.what} has unknown field(s): {extra[:200]}.")
        missing = ", ".join(k for k in self.required if k not in raw)
        return self.error(f"{self.what} is missing field(s): {missing}.")


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _or_none(dumper: Dumper) -> Dumper:
    return lambda v: None if v is None else dumper(v)


def _phrase(raw: object) -> Phrase:
    phrase = read_phrase(raw)
    if phrase is None:
        raise InvalidInput(
            f"A phrase must be an object with a message id and its parameters, got {_shown(raw)}."
        )
    return phrase


register(Phrase, dump=phrase_json, load=_phrase)
