"""The token endpoint's rule, held by the code's shape: after a code is consumed or a refresh
token rotated, nothing raises an OAuth error (a raise would roll back the consumption and any
revocation a replay triggered). Redemption and minting return ``Refused``; raising checks run
there only through ``core.grants.refusal``. Spec: RFC 6749 §4.1.2, §10.5; RFC 9700 §4.14.2.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import authgate.server.grants as grants_package
from authgate.server import issuance
from authgate.server.grants import GRANTS

AFTER_CONSUMPTION = [
    *sorted(Path(grants_package.__file__).parent.glob("*.py")),
    Path(issuance.__file__),
]


@pytest.mark.parametrize("path", AFTER_CONSUMPTION, ids=lambda p: p.name)
def test_no_raise_where_a_code_or_token_may_be_consumed(path: Path) -> None:
    raises = [
        node.lineno for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Raise)
    ]
    assert raises == [], f"{path.name}: return core.grants.Refused instead (lines {raises})"


def test_every_grant_redeems_in_a_module_of_the_grants_package() -> None:
    package = Path(grants_package.__file__).parent
    for grant_type, grant in GRANTS.items():
        module = Path(grant.redeem.__code__.co_filename)
        assert module.parent == package, grant_type
        assert grant.parameters, grant_type


@pytest.mark.parametrize("grant_type", sorted(GRANTS))
def test_a_grants_check_sees_only_the_parameters_it_declares(grant_type: str) -> None:
    """A check that read an undeclared parameter would find it missing (Params.only)."""
    from authgate.core.errors import InvalidRequest
    from authgate.core.params import Params

    grant = GRANTS[grant_type]
    values = {name: "urn:example:api" if name == "resource" else "x" for name in grant.parameters}
    everything = Params({**values, "nonce": "n", "client_id": "c"})
    try:
        assert grant.check(everything.only(grant.parameters)) == grant.check(Params(values))
    except InvalidRequest:  # a check may refuse these values; then both must
        with pytest.raises(InvalidRequest):
            grant.check(Params(values))
