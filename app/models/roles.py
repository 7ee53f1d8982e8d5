"""Who may do what, defined once: the roles and the permissions routes, menus and services ask for.

A user has one role (stored in users.role; the same words name the BPMN lanes in tasks.role).
A permission is a named set of roles that may do one thing; code asks `user.role in SUPERVISE`,
routes say `@role_required(SUPERVISE)`, templates `{% if can('supervise') %}`. Giving a role a
new power, or taking one away, is an edit here, and tests/integration/test_route_permissions.py
says which routes that changes.

Unit staff are bound to one unit: a permission that includes them lets them reach a route, and
the route (or its service) still checks that the record belongs to their unit.
"""

import enum
import inspect

from .base import N_


class Role(enum.StrEnum):
    """The stored value is the lower-case word; compare and store the member, never the string."""

    ADMIN = "admin"  # the campaign office (专项整治办公室)
    DESIGNER = "designer"  # process designer
    SUPERVISOR = "supervisor"  # 督导组
    ASSESSOR = "assessor"  # 评估组 / 考评组
    UNIT_STAFF = "unit_staff"  # a participating unit's liaison, bound to that unit

    @property
    def label(self) -> str:
        """The role's name for people, a msgid: the page translates it (`role_label` in templates)."""
        return ROLE_LABELS[self]


ROLES = tuple(Role)

ROLE_LABELS = {
    Role.ADMIN: N_("系统管理员"),
    Role.DESIGNER: N_("流程设计员"),
    Role.SUPERVISOR: N_("督导组"),
    Role.ASSESSOR: N_("评估组"),
    Role.UNIT_STAFF: N_("单位工作人员"),
}


class Permission(frozenset):
    """A named, documented set of roles: `role in permission` asks whether a role may do it."""

    name: str

    def __new__(cls, name: str, roles, doc: str):
        permission = super().__new__(cls, (Role(r) for r in roles))
        permission.name = name
        permission.__doc__ = inspect.cleandoc(doc)
        return permission

    def __reduce__(self):
        return Permission, (self.name, tuple(self), self.__doc__)

    def __repr__(self) -> str:
        return f"<Permission {self.name}: {', '.join(sorted(self))}>"


OVERSEE_ALL_UNITS = Permission(
    "oversee_all_units",
    {Role.ADMIN, Role.SUPERVISOR, Role.ASSESSOR},
    """
    See every unit's records, not only one's own: any unit's instance, ledger, letters, evidence files
    and audit trail; a campaign's whole ledger and audit trail (and their exports); the dashboard and
    its lists.""",
)

SEE_UNIT_RECORDS = Permission(
    "see_unit_records",
    OVERSEE_ALL_UNITS | {Role.UNIT_STAFF},
    """
    Reach the pages that show one unit's records (instance page, the unit's ledger and audit trail,
    letters): overseers see every unit's, unit staff only their own unit's; the route checks the unit
    of each record (unit_scope_or_404) and answers 404 for another unit's.""",
)

UNIT_WORK = Permission(
    "unit_work",
    {Role.UNIT_STAFF},
    """
    Do one's own unit's work: its to-do list and task pages, its ledger page, and acknowledging
    (签收) the supervision letters sent to it.""",
)

SUPERVISE = Permission(
    "supervise",
    {Role.SUPERVISOR, Role.ADMIN},
    """
    Supervise the units' work: the review queue and the supervisor's task pages, and adding ledger
    items to a unit's running rectification, by hand (a supervisor's finding) or imported from Excel.""",
)

ESCALATE = Permission(
    "escalate",
    {Role.SUPERVISOR, Role.ADMIN},
    """
    Carry the escalation ladder by hand: the escalation board and its bulk reminders and letters,
    retrying and withdrawing rungs, issuing a supervision letter by hand, and the internal list of
    通报 with their withdrawal.""",
)

TRIAGE_TIPS = Permission(
    "triage_tips",
    {Role.SUPERVISOR, Role.ADMIN},
    """
    Work the tip box (监督工作箱): read residents' tips and their photos, accept one into a unit's
    ledger or decline it with a reason.""",
)

PUBLISH_FILES = Permission(
    "publish_files",
    {Role.SUPERVISOR, Role.ADMIN},
    """
    Publish a ledger item's evidence file on the residents' disclosure site, or take it down.""",
)

ASSESS = Permission(
    "assess",
    {Role.ASSESSOR, Role.ADMIN},
    """
    The assessment queue and the assessor's task pages (only assessors complete them; the office reads).""",
)

READ_APPRAISALS = Permission(
    "read_appraisals",
    {Role.ASSESSOR, Role.SUPERVISOR, Role.ADMIN},
    """
    Read appraisal scoring (考核评分): the campaigns with a scheme, the ranking and its Excel export,
    each unit's score sheet.""",
)

SCORE = Permission(
    "score",
    {Role.ASSESSOR},
    """
    Enter, save and submit a unit's score sheet.""",
)

VIEW_CAMPAIGNS = Permission(
    "view_campaigns",
    {Role.ADMIN, Role.SUPERVISOR, Role.ASSESSOR, Role.DESIGNER},
    """
    The list of campaigns, a campaign's page and its progress matrix.""",
)

MANAGE_CAMPAIGNS = Permission(
    "manage_campaigns",
    {Role.ADMIN},
    """
    Run campaigns as the office: enter and edit a notice, enrol units, launch, publish a campaign to
    residents (开门整治), attach an appraisal scheme and set its quota, confirm the ranking, send a
    score sheet back, record interviews (约谈) and written self-examinations (书面检查).""",
)

ADMINISTER = Permission(
    "administer",
    {Role.ADMIN},
    """
    Keep the system's master data: units (and their import), users (and the login throttles: see and
    lift them), and the holiday arrangement (节假日安排) that working-day deadlines are counted on.""",
)

DESIGN = Permission(
    "design",
    {Role.DESIGNER, Role.ADMIN},
    """
    Design processes: deployed versions and drafts, the modeler, upload and download, lint, deploy,
    compare versions, and move a campaign's running instances to another version.""",
)

VIEW_INSTANCE_DIAGRAM = Permission(
    "view_instance_diagram",
    {Role.SUPERVISOR, Role.DESIGNER, Role.ADMIN},
    """
    See an instance's progress coloured on its diagram, beside its timeline.""",
)

PERMISSIONS = {
    p.name: p
    for p in (
        OVERSEE_ALL_UNITS,
        SEE_UNIT_RECORDS,
        UNIT_WORK,
        SUPERVISE,
        ESCALATE,
        TRIAGE_TIPS,
        PUBLISH_FILES,
        ASSESS,
        READ_APPRAISALS,
        SCORE,
        VIEW_CAMPAIGNS,
        MANAGE_CAMPAIGNS,
        ADMINISTER,
        DESIGN,
        VIEW_INSTANCE_DIAGRAM,
    )
}
