"""The resolver-level guard: a host *name* that resolves to a loopback, private,
link-local or otherwise non-public address is not connected to.

The host fence (``crawler.middlewares.HostFence``) keeps requests on the configured
names; this keeps a configured name that resolves, or is rebound later, to an address
inside the network (a cloud metadata service, a router, the machine itself) from being
fetched. It checks the very addresses each connection is about to use (Twisted resolves
anew for every connection: no cache to poison), so a DNS rebinding between two requests
is caught too. An address written in the config (``http://127.0.0.1:8080/``) is the
user's own choice and is not checked, nor is ``localhost``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from twisted.internet.interfaces import IAddress, IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

# Twisted's interfaces are typed for zope's mypy plugin, which is not used here: the
# resolver and receivers they stand for are typed Any below.

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_EXPLICIT = ("localhost", "localhost.")

# host name → why its last resolution was refused (read by crawler.failures for its message)
refusals: dict[str, str] = {}


def non_public(address: str) -> bool:
    """True for an address that is not on the public internet, in any of its spellings
    (an IPv4-mapped or NAT64 IPv6 address is judged by the IPv4 address inside it)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return not ip.is_global or ip.is_multicast


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@provider(IResolutionReceiver)
class _Checked:
    """Holds a name's addresses until all are known, then passes them on only if every
    one is public (one private answer among public ones is a rebinding attempt)."""

    def __init__(self, receiver: Any, name: str) -> None:
        self.receiver = receiver
        self.name = name
        self.addresses: list[IAddress] = []

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        inside = [a.host for a in self.addresses if non_public(a.host)]  # type: ignore[attr-defined]
        if inside:
            refusals[self.name] = (
                f"{self.name} resolves to {inside[0]}, not a public address: not fetched "
                "(write the address itself in the config to crawl it)"
            )
        else:
            refusals.pop(self.name, None)
            for address in self.addresses:
                self.receiver.addressResolved(address)
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """Wraps the reactor's name resolver (``install`` puts it on the reactor, once)."""

    def __init__(self, original: Any) -> None:
        self.original = original

    @classmethod
    def install(cls, reactor: Any) -> None:
        if not isinstance(reactor.nameResolver, cls):
            reactor.installNameResolver(cls(reactor.nameResolver))

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        receiver: Any = resolutionReceiver
        if not (_literal(hostName) or hostName.lower() in _EXPLICIT):
            receiver = _Checked(resolutionReceiver, hostName)
        return self.original.resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )
