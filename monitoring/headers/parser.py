"""Reads a message's Received headers into hops: who handed it to whom, when, and over what TLS."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A paste is read by a web form and a command: bound the work so any input stays cheap.
# 256 KiB holds the headers of any real message (a long chain is a few dozen KiB) and keeps one
# analysis well under a tenth of a second of CPU.
MAX_INPUT_CHARS = 256 * 1024
MAX_HOPS = 500
# Only the protocol word(s) matter; a run-away `with` clause in a garbled header is cut short.
_MAX_WITH_WORDS = 4

# RFC 3848 / RFC 6531 protocol types that say the hop used TLS; Gmail writes SMTPS too.
_TLS_PROTOCOLS = frozenset(
    {
        "ESMTPS",
        "ESMTPSA",
        "SMTPS",
        "UTF8SMTPS",
        "UTF8SMTPSA",
        "LMTPS",
        "LMTPSA",
        "UTF8LMTPS",
        "UTF8LMTPSA",
    }
)
# Protocol types that say the hop did not: their TLS twins exist and would have been written.
# Exchange writes "(TLS)" or "(version=…)" after "Microsoft SMTP Server" whenever TLS was used.
_PLAIN_PROTOCOLS = frozenset(
    {
        "SMTP",
        "ESMTP",
        "ESMTPA",
        "UTF8SMTP",
        "UTF8SMTPA",
        "LMTP",
        "LMTPA",
        "UTF8LMTP",
        "UTF8LMTPA",
        "MICROSOFT SMTP SERVER",
    }
)
_CLAUSE_WORDS = frozenset({"from", "by", "via", "with", "id", "for", "tls"})
_VERSION_RANK = {"SSLv2": 0, "SSLv3": 1, "TLSv1": 2, "TLSv1.1": 3, "TLSv1.2": 4, "TLSv1.3": 5}

_FIELD = re.compile(r"([ \t]*)([A-Za-z][A-Za-z0-9-]*)[ \t]*:")
_VERSION = re.compile(r"(TLS|SSL)\s*V?\s*(\d)(?:\s*[._]\s*(\d))?", re.IGNORECASE)
# Postfix, and the Symantec/MessageLabs gateways that copy its wording.
_POSTFIX_TLS = re.compile(r"\busing\s+(\S+)\s+with\s+cipher\s+([^\s()]+)", re.IGNORECASE)
# Sendmail, Proofpoint, Gmail, Exchange, Mimecast: key=value pairs.
_KV_VERSION = re.compile(r"\bversion\s*=\s*([A-Za-z0-9_./]+)", re.IGNORECASE)
_KV_CIPHER = re.compile(r"\bcipher\s*=\s*([A-Za-z0-9_+.-]+)", re.IGNORECASE)
# Exim (OpenSSL or GnuTLS builds) and OpenSMTPD: "TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256".
_COLON_TLS = re.compile(r"\s*((?:TLS|SSL)[A-Za-z0-9._]*)\s*:\s*(.*)", re.IGNORECASE)
# Cisco IronPort: "with ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384".
_SLASH_TLS = re.compile(r"(E?SMTP)/TLS(?:/(.*))?", re.IGNORECASE)
# Cipher names all join words with "_" or "-"; that tells them from key sizes and flags.
_CIPHER_LIKE = re.compile(r"(?=[^_-]*[_-])[A-Za-z0-9][A-Za-z0-9_+.-]*")
_ADDRESS_LITERAL = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]")


@dataclass(frozen=True)
class Hop:
    """One Received header: the server `by` took the message from `from_`."""

    from_: str | None  # the name the sender gave, then "[address]" the receiving server saw
    by: str | None
    with_: str | None  # the protocol as written: "ESMTPS", "Microsoft SMTP Server", "mapi"
    date: datetime | None  # always aware; None when the header has no readable date
    date_text: str | None  # the date as written, after the last ";"
    tls: bool | None  # None: the header does not say (HTTP, MAPI, local, unknown protocols)
    tls_version: str | None  # normalized: "TLSv1", "TLSv1.2", "TLSv1.3", "SSLv3"
    cipher: str | None  # as written by the MTA (OpenSSL, IANA or GnuTLS naming)
    raw: str  # the header's value, unfolded

    def to_json(self) -> dict:
        return {
            "from": self.from_,
            "by": self.by,
            "with": self.with_,
            "date": self.date.isoformat() if self.date else None,
            "tls": self.tls,
            "tls_version": self.tls_version,
            "cipher": self.cipher,
        }


@dataclass(frozen=True)
class Summary:
    """How many hops said they used TLS, did not, or did not say."""

    total: int
    with_tls: int
    without_tls: int
    unknown: int
    weakest_version: str | None

    @property
    def verdict(self) -> str:
        """A code for the one message a page or command shows about these hops."""
        if self.total == 0:
            return "no-hops"
        if self.with_tls == 0:
            return "no-tls-stated"
        if self.with_tls == self.total:
            return "all-tls"
        return "some-tls"


def parse_headers(text: str) -> list[Hop]:
    """Every Received header in `text`, newest first as written; never raises on garbage."""
    return [_parse_received(value) for value in _received_values(text)]


def summarize(hops: list[Hop]) -> Summary:
    versions = [v for hop in hops if (v := hop.tls_version) in _VERSION_RANK]
    return Summary(
        total=len(hops),
        with_tls=sum(1 for hop in hops if hop.tls is True),
        without_tls=sum(1 for hop in hops if hop.tls is False),
        unknown=sum(1 for hop in hops if hop.tls is None),
        weakest_version=min(versions, key=_VERSION_RANK.__getitem__, default=None),
    )


def normalize_tls_version(text: str) -> str | None:
    """`TLS1_2`, `TLS1.2`, `TLSv1.2`, `TLS 1.2` -> `TLSv1.2`; None when it is no TLS/SSL version."""
    cleaned = text.strip().rstrip(",;)")
    # Old OpenSSL named TLS 1.0 and SSL 3 by one cipher-suite family; Sendmail printed that name.
    if cleaned.upper() == "TLSV1/SSLV3":
        return "TLSv1"
    match = _VERSION.fullmatch(cleaned)
    if match is None:
        return None
    family, major, minor = match.group(1).upper(), match.group(2), match.group(3)
    if family == "TLS" and major == "1":
        if minor in (None, "0"):
            return "TLSv1"
        return f"TLSv1.{minor}" if minor in ("1", "2", "3") else None
    if family == "SSL" and major in ("2", "3") and minor in (None, "0"):
        return f"SSLv{major}"
    return None


def _received_values(text: str) -> list[str]:
    """The unfolded value of each Received field, in header order."""
    lines = text[:MAX_INPUT_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    head: list[str] = []
    for line in lines:
        if not line.strip():  # the blank line that ends the header section; the body follows
            break
        head.append(line)
    # Headers pasted from a quote or an indented block all share some indentation; a line is a
    # new field only at that indentation, deeper ones continue the field above. The first line
    # is left out of the measure: a selection that starts mid-line loses its indentation.
    base = min((len(m.group(1)) for line in head[1:] if (m := _FIELD.match(line))), default=0)
    fields: list[list[str]] = []
    current: list[str] | None = None
    for number, line in enumerate(head):
        match = _FIELD.match(line)
        if match and (number == 0 or len(match.group(1)) <= base):
            current = None
            if match.group(2).lower() == "received":
                if len(fields) == MAX_HOPS:
                    break
                current = [line[match.end() :]]
                fields.append(current)
        elif current is not None:
            current.append(line)
    return [" ".join(" ".join(parts).split()) for parts in fields]


def _parse_received(value: str) -> Hop:
    clause_text, date_text = _split_date(value)
    clauses = _clauses(_tokens(clause_text))
    words = {keyword: (w, c) for keyword, w, c in reversed(clauses)}  # first clause of each kind
    from_words, from_comments = words.get("from", ([], []))
    by_words, _ = words.get("by", ([], []))
    with_values = [_protocol(w) for keyword, w, _ in clauses if keyword == "with" and w]
    version, cipher, stated = _tls_evidence(clauses)
    return Hop(
        from_=_from_label(from_words, from_comments),
        by=by_words[0] if by_words else None,
        with_=" with ".join(with_values) or None,
        date=_parse_date(date_text),
        date_text=date_text,
        tls=True if stated else _protocol_tls(with_values[0] if with_values else None),
        tls_version=version,
        cipher=cipher,
        raw=value,
    )


def _protocol(words: list[str]) -> str:
    """The protocol as written, without the cipher some gateways put in it (reported apart)."""
    words = words[:_MAX_WITH_WORDS]
    lowered = [word.lower() for word in words]
    if "encrypted" in lowered:  # MessageLabs towers: "with ECDHE-RSA-AES256-SHA384 encrypted SMTP"
        words = words[lowered.index("encrypted") :]
    # IronPort: "ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384" is protocol "ESMTP/TLS".
    return " ".join(
        f"{slash.group(1)}/TLS" if (slash := _SLASH_TLS.fullmatch(word)) else word for word in words
    )


def _split_date(value: str) -> tuple[str, str | None]:
    """Split at the last `;` outside comments: RFC 5322 puts the date after it."""
    depth, last = 0, -1
    escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            last = index
    if last < 0:
        return value, None
    return value[:last], value[last + 1 :].strip() or None


def _tokens(text: str) -> list[tuple[str, str]]:
    """Words and comments (nested comments flattened into their outer one), in order."""
    tokens: list[tuple[str, str]] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace() or char == ")":  # a stray ")" closes nothing: skip it
            index += 1
        elif char == "(":
            depth, start = 0, index
            while index < length:
                char = text[index]
                if char == "\\":
                    index += 1
                elif char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                    if depth == 0:
                        break
                index += 1
            tokens.append(("comment", text[start + 1 : index].strip()))
            index += 1
        else:
            start = index
            closer = {"<": ">", "[": "]", '"': '"'}.get(char)
            if closer is not None:
                # Bounded: a stray "<" or '"' must not swallow the header or cost quadratic time.
                end = text.find(closer, index + 1, index + 256)
                index = end + 1 if end >= 0 else index + 1
            while index < length and not text[index].isspace() and text[index] not in "()":
                index += 1
            tokens.append(("word", text[start:index]))
    return tokens


def _clauses(tokens: list[tuple[str, str]]) -> list[tuple[str | None, list[str], list[str]]]:
    """Group tokens by clause keyword: ("from", words, comments), ("by", …), …"""
    clauses: list[tuple[str | None, list[str], list[str]]] = [(None, [], [])]
    for kind, text in tokens:
        if kind == "word" and text.lower() in _CLAUSE_WORDS:
            clauses.append((text.lower(), [], []))
        elif kind == "word":
            # A clause's value is its first run of words; a comment ends it (Exim's "(TLS1.3)").
            keyword, words, comments = clauses[-1]
            if not comments:
                words.append(text)
        else:
            clauses[-1][2].append(text)
    return clauses


def _from_label(words: list[str], comments: list[str]) -> str | None:
    """The name the sender gave, with the address the receiving server saw when it says one."""
    if not words:
        return None
    name = words[0]
    literal = _address_candidates(name)
    for comment in comments:
        for candidate in _address_candidates(comment):
            # A sender that named itself by the address the server saw adds nothing to repeat.
            return name if candidate in literal else f"{name} [{candidate}]"
    return name


def _address_candidates(comment: str) -> list[str]:
    found = [m.group(1) for m in _ADDRESS_LITERAL.finditer(comment)]
    # Exchange writes the address bare: "(192.0.2.10)" or "(2001:db8::12)".
    found += comment.split()[:1]
    addresses = []
    for candidate in found:
        try:
            addresses.append(str(ipaddress.ip_address(candidate)))
        except ValueError:
            continue
    return addresses


def _tls_evidence(
    clauses: list[tuple[str | None, list[str], list[str]]],
) -> tuple[str | None, str | None, bool]:
    """(version, cipher, whether the header states TLS) from every vendor's TLS wording."""
    versions: list[str] = []
    ciphers: list[str] = []
    stated = False
    for keyword, words, comments in clauses:
        if keyword == "tls" and words:  # Exim 4.94+: "with esmtps (TLS1.3) tls TLS_AES_…"
            stated = True
            ciphers.append(words[0])
        if keyword == "with":
            for word in words:
                slash = _SLASH_TLS.fullmatch(word)
                if slash:
                    stated = True
                    parts = [p for p in (slash.group(2) or "").split("/") if p]
                    if parts and normalize_tls_version(parts[0]):
                        versions.append(parts.pop(0))
                    if parts:
                        ciphers.append(parts[-1])
                elif word.upper() in ("TLS", "STARTTLS"):  # Mimecast: "with ESMTP with STARTTLS"
                    stated = True
            lowered = [word.lower() for word in words]
            if "encrypted" in lowered:  # MessageLabs towers: "with CIPHER encrypted SMTP"
                stated = True
                before = lowered.index("encrypted") - 1
                if before >= 0 and _CIPHER_LIKE.fullmatch(words[before]):
                    ciphers.append(words[before])
        for comment in comments:
            found = _comment_tls(comment)
            if found is not None:
                stated = True
                if found[0]:
                    versions.append(found[0])
                if found[1]:
                    ciphers.append(found[1])
    version = next((v for v in map(normalize_tls_version, versions) if v), None)
    cipher = ciphers[0].strip(",;") if ciphers else None
    return version, cipher or None, stated


def _comment_tls(comment: str) -> tuple[str | None, str | None] | None:
    """(version, cipher) when a comment states TLS, else None."""
    match = _POSTFIX_TLS.search(comment)
    if match:
        return match.group(1), match.group(2)
    kv_version = _KV_VERSION.search(comment)
    kv_cipher = _KV_CIPHER.search(comment)
    if kv_cipher or (kv_version and normalize_tls_version(kv_version.group(1))):
        return (
            kv_version.group(1) if kv_version else None,
            kv_cipher.group(1) if kv_cipher else None,
        )
    if normalize_tls_version(comment):  # Exim 4.94+: "(TLS1.3)"
        return comment, None
    if comment.upper() in ("TLS", "SSL", "STARTTLS"):  # Exchange 2010: "(TLS)"
        return None, None
    colon = _COLON_TLS.match(comment)
    if colon:
        head, rest = colon.group(1), colon.group(2)
        if normalize_tls_version(head):  # "TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256"
            cipher = rest.split(":")[0].strip()
            return head, cipher if _CIPHER_LIKE.fullmatch(cipher) else None
        if head.upper() in ("TLS", "SSL"):  # "(TLS: TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384)"
            words = [w.strip(",;") for w in rest.split()]
            version = next((w for w in words if normalize_tls_version(w)), None)
            cipher = next((w for w in words if w != version and _CIPHER_LIKE.fullmatch(w)), None)
            return version, cipher
    return None


def _protocol_tls(protocol: str | None) -> bool | None:
    """What the `with` protocol type alone says; None for HTTP, MAPI, local and the unknown."""
    if protocol is None:
        return None
    name = protocol.upper()
    first = name.split()[0]
    if first in _TLS_PROTOCOLS:
        return True
    if name in _PLAIN_PROTOCOLS or first in _PLAIN_PROTOCOLS:
        return False
    return None


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    words = [kind_text for kind, kind_text in _tokens(text) if kind == "word"]
    try:
        moment = parsedate_to_datetime(" ".join(words))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" or no zone at all: RFC 5322 says the local zone is unknown; UTC is the best guess.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
