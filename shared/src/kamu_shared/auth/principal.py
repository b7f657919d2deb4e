"""The authenticated caller: a person id (``sub``) and the roles the token grants."""

from dataclasses import dataclass

EMPLOYEE = "employee"
PEOPLE_OPS = "people-ops"
SERVICE = "service"
ADMIN = "admin"
KNOWN_ROLES = frozenset({EMPLOYEE, PEOPLE_OPS, SERVICE, ADMIN})


@dataclass(frozen=True)
class Principal:
    """Immutable, so a handler cannot widen what the token granted."""

    sub: str
    roles: frozenset[str]

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_employee(self) -> bool:
        return EMPLOYEE in self.roles

    @property
    def is_people_ops(self) -> bool:
        return PEOPLE_OPS in self.roles

    @property
    def is_service(self) -> bool:
        return SERVICE in self.roles

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles
