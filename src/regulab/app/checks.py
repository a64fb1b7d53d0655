"""The checks every request to the lab passes before Dash sees it (pure functions; no Dash, no
Flask): its ``Host`` and ``Origin`` (against DNS rebinding and pages elsewhere) and the body of a
callback request.

* :func:`allowed_hosts`: the names a ``Host`` header may carry. For a wildcard bind (0.0.0.0,
  ::) those are this machine's own names and *every* address of its interfaces
  (:func:`local_addresses`), so that the machine's own IP answers, not only what its host name
  resolves to (often 127.0.0.1 alone).
* :func:`callback_problem`: what is wrong with a callback request's body (not JSON, nested too
  deeply, not shaped like the callback it names), or None; the server answers 400 and one line.
"""

from __future__ import annotations

import ipaddress
import json
import socket

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
#: deepest nesting of a callback body: Dash's own requests stay under 10 levels
MAX_DEPTH = 32
#: addresses used only to ask the OS which source address it would use (a UDP socket is
#: "connected", nothing is sent): TEST-NET-2 and IPv6's documentation prefix
_PROBES = ((socket.AF_INET, "198.51.100.1"), (socket.AF_INET6, "2001:db8::1"))


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only reaches this machine."""
    h = str(host).strip().strip("[]").lower().rstrip(".")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def host_name(header) -> str | None:
    """The host name of a ``Host`` header, lower-case, without port; None when malformed."""
    if not header or not isinstance(header, str):
        return None
    header = header.strip().lower()
    if header.startswith("["):                      # [IPv6]:port
        end = header.find("]")
        if end < 0:
            return None
        name, rest = header[1:end], header[end + 1:]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
    else:
        name, sep, port = header.partition(":")
        if sep and not port.isdigit():
            return None
    name = name.rstrip(".")
    if not name or any(c.isspace() or c in "/\\@?#%" for c in name):
        return None
    return name


def _addr(text: str) -> str | None:
    """An address in the form a ``Host`` header names it (lower case, no IPv6 zone)."""
    try:
        return str(ipaddress.ip_address(str(text).split("%")[0].strip()))
    except ValueError:
        return None


def _proc_addresses() -> set[str]:
    """Linux: every local address of every interface, from /proc/net (IPv4: the ``LOCAL``
    entries of ``fib_trie``; IPv6: ``if_inet6``). Empty where /proc/net is not there."""
    found = set()
    try:
        with open("/proc/net/fib_trie", encoding="ascii") as fh:
            last = None
            for line in fh:
                text = line.strip()
                if text.startswith(("|--", "+--")):
                    last = text[3:].split()[0]
                elif text.endswith("host LOCAL") and last:
                    found.add(last)
    except OSError:
        pass
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as fh:
            for line in fh:
                field = line.split()[:1]
                if field and len(field[0]) == 32:
                    found.add(str(ipaddress.IPv6Address(int(field[0], 16))))
    except (OSError, ValueError):
        pass
    return {a for a in map(_addr, found) if a}


def _route_addresses() -> set[str]:
    """The source address the OS would use for an outgoing packet, per address family (the
    portable fallback where /proc/net is missing; nothing is sent)."""
    found = set()
    for family, probe in _PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                found.add(_addr(sock.getsockname()[0]))
        except OSError:
            continue
    return {a for a in found if a}


def local_addresses() -> frozenset:
    """This machine's own names and addresses: its host names, what they resolve to, every
    interface address the OS lists (:func:`_proc_addresses`) and the outgoing source address
    (:func:`_route_addresses`). Standard library only."""
    names = set()
    for name in {socket.gethostname(), socket.getfqdn()}:
        if not name:
            continue
        names.add(name.lower().rstrip("."))
        try:
            for info in socket.getaddrinfo(name, None):
                addr = _addr(info[4][0])
                if addr:
                    names.add(addr)
        except OSError:
            pass
    return frozenset(names | _proc_addresses() | _route_addresses())


def allowed_hosts(bound_host: str) -> frozenset:
    """Host names a request may carry: localhost's, the bound host's and, for a wildcard bind
    (0.0.0.0, ::), this machine's own names and addresses (:func:`local_addresses`)."""
    names = set(LOCAL_NAMES)
    h = str(bound_host).strip().strip("[]").lower().rstrip(".")
    if h not in WILDCARDS:
        names.add(h)
        return frozenset(names)
    return frozenset(names | local_addresses())


def origin_host(origin: str) -> str | None:
    """The host name of an ``Origin`` header (http or https only), lower case; else None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not hostname:
        return None
    return hostname.lower().rstrip(".")


# ----------------------------------------------------------------------------- callback bodies

def _too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _is_ref(item) -> bool:
    """``{"id": ..., "property": ...}`` with a string property and a string or dict id."""
    return (isinstance(item, dict) and isinstance(item.get("property"), str)
            and isinstance(item.get("id"), (str, dict)))


def _refs_match(sent, declared, what: str) -> str | None:
    """What is wrong with the ``inputs`` or ``state`` list a request sent, given the callback's
    declared ones (same count, same ids and properties, in order)."""
    if not isinstance(sent, list):
        return f"'{what}' is not a list"
    if len(sent) != len(declared):
        return f"'{what}' has {len(sent)} entries, the callback takes {len(declared)}"
    for item, dec in zip(sent, declared):
        entries = item if isinstance(item, list) and isinstance(dec.get("id"), dict) else [item]
        if not all(_is_ref(e) for e in entries):
            return f"an entry of '{what}' is not an id and a property"
        if isinstance(dec.get("id"), str) and (item["id"], item["property"]) != (
                dec["id"], dec["property"]):
            return f"'{what}' names {item['id']}.{item['property']}, not the callback's"
    return None


def callback_problem(raw: bytes, callback_map: dict) -> str | None:
    """What is wrong with the body of a callback request (``POST _dash-update-component``), in a
    few words, or None when it is well formed: JSON, at most :data:`MAX_DEPTH` levels deep, an
    object naming one of the app's callbacks (``output``) with its outputs, and exactly that
    callback's inputs and state."""
    try:
        body = json.loads(raw)
    except RecursionError:
        return "nested too deeply"
    except (ValueError, UnicodeDecodeError):
        return "not JSON"
    if _too_deep(body):
        return "nested too deeply"
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__}, not an object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "no callback of this app has that output"
    outputs = body.get("outputs")
    outs = outputs if isinstance(outputs, list) else [outputs]
    if not all(_is_ref(o) or (isinstance(o, list) and all(map(_is_ref, o))) for o in outs):
        return "'outputs' is not a list of ids and properties"
    cb = callback_map[output]
    for what in ("inputs", "state"):
        problem = _refs_match(body.get(what, []), cb.get(what, []), what)
        if problem:
            return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' is not a list of strings"
    return None
