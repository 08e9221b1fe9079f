"""Who may change what the campaigns run on: publish a campaign's versions, deploy and
undeploy it, and manage the org tree and its units.

Reading is scoped elsewhere (engine.access); these are the decisions that change the record
for others: a campaign's text decides every sign-off of every case opened under it, and the org
tree decides whose duties a unit has. An admin may do all of it; an office only within its own
subtree and only in the roles below. A unit's token (a principal) never.
"""

from __future__ import annotations

from engine import texts
from engine.access import Principal
from engine.errors import Forbidden, NotCampaignOwner, scope_words
from engine.texts import listed

# 安委会办公室: publishes the campaigns of its org, and runs campaigns in its subtree.
CAMPAIGN_ROLES = frozenset({"safety_office"})
# The offices that keep the register of orgs and units (属地管理): the safety office and the
# locality (the street or town office). Departments, acceptance teams, communities' grid
# workers and enterprises read the register but do not change it.
SUBJECT_ROLES = frozenset({"safety_office", "locality"})


def _holds_office(principal: Principal, roles: frozenset[str]) -> bool:
    # Office roles are held for an org: a unit token never manages anything, whatever roles
    # it was made with.
    return principal.admin or (principal.scope_kind == "org" and bool(principal.roles & roles))


def _refuse(action: str, principal: Principal, roles: frozenset[str]) -> Forbidden:
    held = listed(sorted(principal.roles)) or texts.t("problem.no_role")
    return Forbidden(action, texts.t("errors.needs.office", roles=listed(sorted(roles)),
                                     scope=scope_words(principal.scope), held=held),
                     required_roles=roles, held_roles=principal.roles)


def require_campaign_office(principal: Principal, action: str) -> None:
    """Publishing, deploying and undeploying campaigns: an admin or a safety office."""
    if not _holds_office(principal, CAMPAIGN_ROLES):
        raise _refuse(action, principal, CAMPAIGN_ROLES)


def require_subject_manager(principal: Principal, action: str) -> None:
    """Creating and changing orgs and units (also by import): an admin, a safety office or a
    locality; the subtree is checked where the org or unit is known."""
    if not _holds_office(principal, SUBJECT_ROLES):
        raise _refuse(action, principal, SUBJECT_ROLES)


def owner_of_new_campaign(principal: Principal) -> str | None:
    """The org that owns a campaign whose first version `principal` publishes: the office's
    org; None for an admin (then only an admin may publish its next versions)."""
    return None if principal.admin else principal.scope_id


def require_next_version(principal: Principal, campaign_id: str, owner_org: str | None,
                         owner_path: str | None) -> None:
    """Publishing a next version of an existing campaign: an admin, or the safety office of
    its owner org or of an org above it. Extending it under a new id needs neither."""
    if principal.admin:
        return
    action = texts.t("errors.action.publish_version", campaign=campaign_id)
    adapt = texts.t("errors.needs.adapt", campaign=campaign_id)
    if owner_org is None or owner_path is None:
        raise NotCampaignOwner(action, texts.t("errors.needs.admin_unowned", adapt=adapt))
    if not principal.reaches_org(owner_path):
        raise NotCampaignOwner(action, texts.t("errors.needs.owner_office", org=owner_org,
                                               adapt=adapt))


def require_deploy(principal: Principal, campaign_id: str, owner_org: str | None,
                   owner_path: str | None, target_path: str) -> None:
    """Deploying a campaign an office owns: within the owner's subtree, or by an office at or
    above the owner. Otherwise a neighbour running a street's plan would freeze it for its
    owner (a next version is refused while it runs outside the publisher's subtree) and take
    every later version the owner publishes without being asked. The subtree of the target is
    checked where the org is known."""
    if principal.admin or owner_org is None or owner_path is None:
        return
    if target_path.startswith(owner_path) or principal.reaches_org(owner_path):
        return
    raise NotCampaignOwner(
        texts.t("errors.action.deploy_outside", campaign=campaign_id, org=owner_org),
        texts.t("errors.needs.deploy_owner", org=owner_org, campaign=campaign_id))
