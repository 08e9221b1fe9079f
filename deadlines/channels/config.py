"""Reading a channel's deployment config: typed fields, every problem reported at once, and an
error that names each offending field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from deadlines.outbound import OutboundPolicy
from engine import texts
from engine.errors import PaichaError

T = TypeVar("T", bound=str)

# Values people leave in a config template; sending them would sign with a secret everyone knows.
PLACEHOLDERS = frozenset({"", "changethis", "changeme", "secret", "xxx", "todo", "key", "token"})
# The config keys that hold secrets (of any channel kind), and those that hold URLs.
SECRET_FIELDS = frozenset({"secret", "key", "access_token", "password"})
URL_FIELDS = frozenset({"url", "base_url"})
# the config keys that hold people's mobile numbers (by role)
MOBILE_FIELDS = frozenset({"at_mobiles"})
MASK = "••••"
# How many roles and numbers a robot's at_mobiles may hold: a group robot's chat holds at most
# 2,000 members (WeCom, DingTalk), and a message mentions those of its roles; a config far past
# that is a mistake (a pasted directory), and it is stored and shown with every subscription.
MOBILE_ROLES = 50
MOBILES_PER_ROLE = 200
# a mobile number as the robots take it: digits, optionally the country code with +
MOBILE = re.compile(r"\+?[0-9]{5,20}")


class ChannelConfigInvalid(PaichaError, ValueError):
    """A channel's config cannot be used; `problems` pairs each field with what is wrong."""

    code = "channel_config_invalid"

    def __init__(self, channel: str, problems: Iterable[tuple[str, str]]) -> None:
        self.channel = channel
        self.problems: list[tuple[str, str]] = list(problems)
        said = texts.listed((texts.t("deadlines.config.problem", field=field, problem=problem)
                             for field, problem in self.problems), "list.semicolon")
        super().__init__(texts.t("deadlines.config.invalid", channel=channel, problems=said))

    @property
    def fields(self) -> list[str]:
        """The names of the fields with a problem, in the order found."""
        return [field for field, _ in self.problems]


class ConfigReader:
    """Typed access to one channel's config dict; call `done()` last to raise what was found."""

    def __init__(self, channel: str, raw: Mapping[str, object], known: Iterable[str]) -> None:
        self.channel = channel
        self._raw = raw
        self._problems: list[tuple[str, str]] = []
        if not isinstance(raw, Mapping):
            self._problems.append(("<config>", texts.t("deadlines.config.not_mapping",
                                                       type=type(raw).__name__)))
            self._raw = {}
        # An unknown key is most often a typo of a known one ("secert"), which would otherwise
        # silently fall back to a default.
        allowed = set(known) | {"name"}
        for key in self._raw:
            if key not in allowed:
                self._problems.append(
                    (str(key), texts.t("deadlines.config.unknown_key",
                                       known=", ".join(sorted(allowed))))
                )

    def problem(self, field: str, message: str) -> None:
        """Record a problem found by a check the reader does not know about."""
        self._problems.append((field, message))

    def _get(self, field: str) -> object | None:
        return self._raw.get(field)

    def string(self, field: str, *, default: str | None = None, secret: bool = False) -> str:
        """A required string (or `default` when absent); secrets refuse placeholders."""
        value = self._get(field)
        if value is None:
            if default is not None:
                return default
            self._problems.append((field, texts.t("deadlines.config.required")))
            return ""
        if not isinstance(value, str):
            self._problems.append((field, texts.t("deadlines.config.not_string",
                                                  type=type(value).__name__)))
            return ""
        if secret and value.strip().lower() in PLACEHOLDERS:
            self._problems.append((field, texts.t("deadlines.config.placeholder")))
        elif not value.strip():
            self._problems.append((field, texts.t("deadlines.config.empty")))
        return value

    def optional_string(self, field: str, *, secret: bool = False) -> str | None:
        """A string that may be absent."""
        if self._get(field) is None:
            return None
        return self.string(field, secret=secret)

    def choice(self, field: str, options: Sequence[T], default: T) -> T:
        """One of a closed set of strings."""
        value = self._get(field)
        if value is None:
            return default
        for option in options:
            if value == option:
                return option
        self._problems.append((field, texts.t("deadlines.config.not_choice",
                                              options=", ".join(options), value=value)))
        return default

    def number(self, field: str, *, default: float, minimum: float, maximum: float) -> float:
        """A number of seconds or similar, within bounds."""
        value = self._get(field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._problems.append((field, texts.t("deadlines.config.not_number",
                                                  type=type(value).__name__)))
            return default
        if not minimum <= value <= maximum:
            self._problems.append((field, texts.t("deadlines.config.out_of_range",
                                                  minimum=minimum, maximum=maximum, value=value)))
            return default
        return float(value)

    def integer(self, field: str, *, default: int, minimum: int, maximum: int) -> int:
        """A whole number within bounds."""
        value = self._get(field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._problems.append((field, texts.t("deadlines.config.not_integer",
                                                  type=type(value).__name__)))
            return default
        if not minimum <= value <= maximum:
            self._problems.append((field, texts.t("deadlines.config.out_of_range",
                                                  minimum=minimum, maximum=maximum, value=value)))
            return default
        return value

    def strings(self, field: str) -> tuple[str, ...]:
        """A non-empty list of non-empty strings; one string is taken as a list of one."""
        value = self._get(field)
        if isinstance(value, str):
            value = [value]
        if value is None:
            self._problems.append((field, texts.t("deadlines.config.required")))
            return ()
        if not isinstance(value, list | tuple) or not value:
            self._problems.append((field, texts.t("deadlines.config.not_strings")))
            return ()
        if not all(isinstance(item, str) and item.strip() for item in value):
            self._problems.append((field, texts.t("deadlines.config.empty_item")))
            return ()
        return tuple(str(item) for item in value)

    def mobiles(self, field: str) -> dict[str, tuple[str, ...]]:
        """Mobile numbers by role ({role: [number, …]}): whom a robot @mentions when a
        message is for that role; absent, nobody."""
        value = self._get(field)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            self._problems.append((field, texts.t(
                "deadlines.config.not_mobiles", example='{"principal": ["13800000000"]}')))
            return {}
        if len(value) > MOBILE_ROLES:
            self._problems.append((field, texts.t("deadlines.config.mobile_roles",
                                                  limit=MOBILE_ROLES)))
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for role, numbers in value.items():
            if isinstance(numbers, str):
                numbers = [numbers]
            if isinstance(numbers, list | tuple) and len(numbers) > MOBILES_PER_ROLE:
                self._problems.append((f"{field}.{role}", texts.t(
                    "deadlines.config.mobiles_per_role", limit=MOBILES_PER_ROLE)))
                continue
            if not isinstance(numbers, list | tuple) or not all(
                    isinstance(n, str) and MOBILE.fullmatch(n) for n in numbers):
                self._problems.append((f"{field}.{role}", texts.t("deadlines.config.mobiles")))
                continue
            found[role] = tuple(numbers)
        return found

    def url(self, field: str, *, outbound: OutboundPolicy, default: str | None = None) -> str:
        """An absolute http(s) URL to a destination `outbound` allows (the value is not quoted
        in a problem: it may carry credentials)."""
        value = self.string(field, default=default)
        if value:
            problem = outbound.url_problem(value)
            if problem:
                self._problems.append((field, problem))
        return value

    def host(self, field: str, *, outbound: OutboundPolicy) -> str:
        """A host name or IP address `outbound` allows."""
        value = self.string(field)
        if value:
            problem = outbound.host_problem(value)
            if problem:
                self._problems.append((field, problem))
        return value

    def name(self, default: str) -> str:
        """The channel's name in the outbox and logs; several channels of one kind differ by it."""
        return self.string("name", default=default)

    def done(self) -> None:
        """Raise every problem found, if any."""
        if self._problems:
            raise ChannelConfigInvalid(self.channel, self._problems)


def masked_url(url: str, *, full: bool) -> str:
    """`url` as shown: credentials before `@` always masked; for a reader who does not manage
    the channel (`full` False) the path and each query value too, since a webhook's path or
    query is often the capability itself (…/hook/<token>, ?key=…)."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
    except ValueError:
        return MASK
    netloc = f"{MASK}@{host}" if "@" in parts.netloc else host
    if full:
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    path = parts.path if parts.path in ("", "/") else f"/{MASK}"
    query = "&".join(f"{pair.split('=', 1)[0]}={MASK}" if "=" in pair else MASK
                     for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def masked_mobile(number: str) -> str:
    """A mobile number with its middle digits hidden, as Chinese services print one:
    138••••0000."""
    return number[:3] + MASK + number[-4:] if len(number) > 7 else MASK


def public_config(config: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
    """A channel's config as the API shows it: secret fields masked for everyone, once made;
    URLs as `masked_url` shows them; the mobile numbers to @mention (people's own) only to
    those who manage the channel."""
    shown: dict[str, Any] = {}
    for key, value in config.items():
        if key in SECRET_FIELDS and value:
            shown[key] = MASK
        elif key in URL_FIELDS and isinstance(value, str):
            shown[key] = masked_url(value, full=full)
        elif key in MOBILE_FIELDS and isinstance(value, Mapping) and not full:
            shown[key] = {role: [masked_mobile(str(n)) for n in
                                 (numbers if isinstance(numbers, list) else [numbers])]
                          for role, numbers in value.items()}
        else:
            shown[key] = value
    return shown
