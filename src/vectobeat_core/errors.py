"""The one exception tree of VectoBeat.

Every error a person can see carries a message fit to show them (a Discord user or a panel user);
raised as a message id with parameters (``InvalidInput("Volume must be at most {max}.", max=200)``)
it can be shown in the person's language: the shells translate ``template`` and fill in ``params``
(``vectobeat_adapters.i18n.error_text``); ``message`` is the English text. ``status`` is a hint for HTTP shells (the way h11's ``RemoteProtocolError`` carries an error status).

    VectoBeatError
    ├── InvalidInput                    bad input from a user, an operator or a foreign system (400)
    │   ├── PositionOutOfRange          a queue position outside the valid range
    │   ├── InvalidTrack                an encoded track or track payload that cannot be read
    │   ├── InvalidSettings             settings that fail validation (per-field messages)
    │   ├── InvalidSnapshot             a malformed, foreign or wrong-version queue snapshot
    │   └── InvalidPlanMatrix           an operator's plan file that cannot be parsed
    ├── LimitExceeded                   a plan or capacity limit (403 / 409 hint)
    │   └── QueueFull                   adding would exceed the queue's capacity
    ├── NotFound                        a guild, playlist, token, node, ... that does not exist (404)
    │   └── NotEnabled                  a feature the operator has not configured (billing, ...)
    ├── PermissionDenied                the caller may not do this (403)
    ├── NotAuthenticated                no (valid) session or token was presented (401)
    ├── Conflict                        a write based on a stale version (409)
    │   └── StaleVersion                settings/lease version compare-and-set failed
    ├── QueueEmpty                      nothing to play / nothing in history
    ├── ConfigError                     configuration is missing or malformed (startup)
    ├── NotBuilt                        a capability that is not built yet (says so plainly)
    └── Unavailable                     a dependency is down, slow or wrong (503)
        ├── StorageUnavailable          Redis / database
        ├── NodeUnavailable             Lavalink node(s)
        ├── BridgeUnavailable           the panel's bot bridge
        └── OutcomeUnknown              a write sent, its answer lost: it may or may not apply
"""

from __future__ import annotations

from collections.abc import Mapping

from vectobeat_core.messages import Phrase, Term, message_id

__all__ = [
    "BridgeUnavailable",
    "ConfigError",
    "Conflict",
    "InvalidInput",
    "InvalidPlanMatrix",
    "InvalidSettings",
    "InvalidSnapshot",
    "InvalidTrack",
    "LimitExceeded",
    "NodeUnavailable",
    "NotAuthenticated",
    "NotBuilt",
    "NotEnabled",
    "NotFound",
    "OutcomeUnknown",
    "PermissionDenied",
    "PositionOutOfRange",
    "QueueEmpty",
    "QueueFull",
    "StaleVersion",
    "StorageUnavailable",
    "Unavailable",
    "VectoBeatError",
]


class VectoBeatError(Exception):
    """Root of every error VectoBeat raises on purpose.

    ``message`` is fit to show a person (English); ``template`` is its message id and ``params``
    what fills its ``{fields}`` (none: the message is the id as is); ``status`` hints the HTTP
    status a shell should use.
    """

    status: int = 500

    def __init__(self, message: str, /, **params: object) -> None:
        text = message.format(**params) if params else message
        super().__init__(text)
        self.message = text
        self.template = message
        self.params: dict[str, object] = params

    def __str__(self) -> str:
        return self.message

    def phrase(self, *, clause: bool = False) -> Phrase:
        """This error's text as a `Phrase`, to be part of another text (a settings problem)."""
        return Phrase(self.template, self.params, clause)


class InvalidInput(VectoBeatError):
    status = 400


class PositionOutOfRange(InvalidInput):
    """A position outside ``low..high`` (1-based, inclusive); the message says the valid range."""

    def __init__(self, what: str, position: int, low: int, high: int) -> None:
        if high < low:
            super().__init__(
                message_id("{what} {position} is out of range: the queue is empty."),
                what=Term(what),
                position=position,
            )
        else:
            super().__init__(
                message_id("{what} {position} is out of range: choose {low}-{high}."),
                what=Term(what),
                position=position,
                low=low,
                high=high,
            )
        self.position = position
        self.low = low
        self.high = high


class InvalidTrack(InvalidInput):
    pass


class InvalidSettings(InvalidInput):
    """Settings that fail validation, one problem per field: ``details`` maps each field to its
    problem as a `Phrase` (a plain text given is a message id), which the shells translate;
    ``problems`` is the same in English."""

    def __init__(self, problems: Mapping[str, str | Phrase]) -> None:
        details = {f: p if isinstance(p, Phrase) else Phrase(p) for f, p in problems.items()}
        listed = sorted(details.items())
        joined = Phrase(  # "field: problem; field: problem", each problem translated
            "; ".join(f"{{p{i}}}" for i in range(len(listed))),
            {
                f"p{i}": Phrase("{field}: {problem}", {"field": field, "problem": problem})
                for i, (field, problem) in enumerate(listed)
            },
        )
        super().__init__(message_id("Invalid settings — {problems}"), problems=joined)
        self.details = details
        self.problems = {field: str(problem) for field, problem in details.items()}


class InvalidSnapshot(InvalidInput):
    pass


class InvalidPlanMatrix(InvalidInput):
    pass


class LimitExceeded(VectoBeatError):
    status = 403


class QueueFull(LimitExceeded):
    status = 409


class NotFound(VectoBeatError):
    status = 404


class NotEnabled(NotFound):
    """A feature the operator has not configured on this server (e.g. billing without Stripe keys)."""


class PermissionDenied(VectoBeatError):
    status = 403


class Conflict(VectoBeatError):
    status = 409


class StaleVersion(Conflict):
    """A compare-and-set write whose base version is no longer current."""

    def __init__(self, what: str, expected: int, current: int) -> None:
        super().__init__(
            message_id(
                "{what} was changed by someone else (you edited version {expected}, "
                "the current version is {current}); reload and try again."
            ),
            what=Term(what),
            expected=expected,
            current=current,
        )
        self.expected = expected
        self.current = current


class QueueEmpty(VectoBeatError):
    status = 409


class ConfigError(VectoBeatError):
    status = 500


class NotBuilt(VectoBeatError):
    status = 501


class Unavailable(VectoBeatError):
    status = 503


class StorageUnavailable(Unavailable):
    pass


class NodeUnavailable(Unavailable):
    pass


class BridgeUnavailable(Unavailable):
    pass


class OutcomeUnknown(Unavailable):
    """A write that was sent but never confirmed (a timeout or a lost answer): it may or may not
    have been applied, so it must not be reported as failed; re-read to learn the truth."""


class NotAuthenticated(VectoBeatError):
    """No valid credentials: no session, or a missing, wrong, expired or revoked token (401)."""

    status = 401
