"""What every grant module provides, and the steps two of them share.

Spec: RFC 6749 §4.1.3, §6; RFC 8707 §2.2.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from authgate.core.errors import InvalidTarget
from authgate.core.grants import Issuance, Refused
from authgate.core.models import Client, Resource
from authgate.core.params import Params
from authgate.server.context import ServerContext
from authgate.storage.base import Transaction

__all__ = ["Grant", "Redeem", "bound_resource"]

_R = TypeVar("_R")

Redeem = Callable[[ServerContext, Transaction, Client, _R], Awaitable[Issuance | Refused]]
"""Redeem a checked request inside the token endpoint's transaction. Returns, never raises,
an OAuth error: a raise would roll back a consumed code or rotated token (core/grants.py)."""


@dataclass(frozen=True, slots=True)
class Grant(Generic[_R]):
    """One grant type of the token endpoint (design note 0011)."""

    parameters: frozenset[str]
    """The request parameters it reads, besides ``grant_type`` and client authentication:
    its check is given these and no others (``Params.only``)."""
    check: Callable[[Params], _R]
    """Pure: the declared parameters, checked in form; may raise (nothing consumed yet)."""
    redeem: Redeem[_R]


async def bound_resource(tx: Transaction, bound: str | None) -> Resource | Refused | None:
    """The registered resource an authorization was for, refused if no longer registered.
    Spec: RFC 8707 §2.2."""
    if bound is None:
        return None
    resource = await tx.resources.get(bound)
    if resource is None:
        return Refused(InvalidTarget("the resource is no longer registered"))
    return resource
