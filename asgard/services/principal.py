"""Who is asking, for which account, with which role: the input of every permission check."""

from __future__ import annotations

from dataclasses import dataclass

from asgard.errors import Forbidden
from asgard.models import Account, AccountWithRole, Role, User


@dataclass(frozen=True)
class Principal:
    user: User
    account: Account | None
    role: Role | None
    """The user's role in ``account``; None when there is no account."""
    memberships: tuple[AccountWithRole, ...] = ()
    """Every account of the user, with its role there, as read to authenticate."""

    def require(self, role: Role) -> Account:
        """The request's account, if the user holds at least ``role`` there."""
        if self.account is None or self.role is None:
            raise Forbidden("this user is not a member of any account")
        if not self.role.allows(role):
            raise Forbidden(
                f"role '{self.role.value}' in account {self.account.id} cannot do this; "
                f"'{role.value}' is needed"
            )
        return self.account

    def require_admin(self) -> None:
        if not self.user.is_admin:
            raise Forbidden("only an Asgard administrator can do this")


SYSTEM = Principal(
    user=User(id=0, name="asgard command line", email="system@asgard", is_admin=True),
    account=None,
    role=None,
)
"""Who the ``asgard`` command acts as: someone at the machine, with an administrator's rights."""
