"""Neighbourhood councils (零距离家园理事会) and what they do: topics, the three meetings
(三会: hearing, coordination, evaluation), consultations (written consent and owners' votes),
resources and needs, projects and self-governance grants.

The rules (art. 278 votes, consent campaigns, weighted progress, the grant ledger) live in the
pure engines ``council.rules`` and ``council.progress``; these models only persist their inputs
and the auditable result (with its digest). Every row that needs area scope carries the
materialised ``path`` of its council's neighbourhood (or of its compound when it has one).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiayuan.registry.models import path_index

USER = settings.AUTH_USER_MODEL


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class Council(models.Model):
    """One per neighbourhood."""

    neighbourhood = models.OneToOneField("registry.Neighbourhood", on_delete=models.PROTECT,
                                         related_name="council")
    name = models.CharField(_("name"), max_length=120)
    path = models.CharField(max_length=255, editable=False, default="")
    charter = models.TextField(_("charter"), blank=True)
    meeting_rhythm = models.CharField(_("meeting rhythm"), max_length=60, blank=True,
                                      default="每月一次")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        indexes = [path_index("council")]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    PARTY_SECRETARY = "party_secretary", _("party secretary")
    RESIDENTS_COMMITTEE = "residents_committee", _("residents' committee")
    OWNERS_COMMITTEE = "owners_committee", _("owners' committee")
    PROPERTY_MANAGER = "property_manager", _("property manager")
    RESIDENT_REPRESENTATIVE = "resident_representative", _("resident representative")
    DEPARTMENT_LIAISON = "department_liaison", _("department liaison")
    DEPUTY = "deputy", _("deputy")
    LAWYER = "lawyer", _("lawyer")
    LOCAL_UNIT = "local_unit", _("local unit")


class CouncilMember(models.Model):
    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="council_memberships")
    name = models.CharField(_("name"), max_length=60)
    role = models.CharField(_("role"), max_length=24, choices=MemberRole.choices)
    department = models.ForeignKey("registry.Department", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    unit = models.ForeignKey("registry.Unit", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        ordering = ["council_id", "role", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class TopicStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLAIMED = "claimed", _("claimed")
    IN_MEETING = "in_meeting", _("on a meeting agenda")
    ESCALATED = "escalated", _("sent to the operations centre")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


class TopicOrigin(models.TextChoices):
    HOME_CODE = "home_code", _("resident (home code)")
    STAFF = "staff", _("staff")
    DEPUTY = "deputy", _("deputy")
    CASE = "case", _("from a case")


class Topic(models.Model):
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="topics")
    path = models.CharField(max_length=255, default="")
    compound = models.ForeignKey("registry.Compound", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    entrance = models.ForeignKey("registry.Entrance", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("description"), blank=True)
    origin = models.CharField(max_length=12, choices=TopicOrigin.choices)
    raised_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    raiser_name = models.CharField(max_length=60, blank=True)
    raiser_phone = models.CharField(max_length=30, blank=True)
    source_case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=TopicStatus.choices,
                              default=TopicStatus.OPEN)
    responsible_user = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+")
    responsible_department = models.ForeignKey("registry.Department", on_delete=models.SET_NULL,
                                               null=True, blank=True, related_name="+")
    lawyer_review = models.BooleanField(_("needs the lawyer's review"), default=False)
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    case_state = models.CharField(max_length=12, blank=True)
    followers = models.ManyToManyField(USER, blank=True, related_name="followed_topics")
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)
    last_activity_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [
            path_index("topic"),
            models.Index(fields=["council", "-last_activity_at"], name="topic_council_activity"),
            models.Index(fields=["council", "status"], name="topic_council_status"),
        ]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", _("comment")
        SYSTEM = "system", _("system")
        CASE = "case", _("case update")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    author_name = models.CharField(max_length=60, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    # A checked JPEG or PNG (core.photos), stored under a name of ours and served only by
    # views.comment_photo with ``photo_type``: never straight from MEDIA_ROOT.
    photo = models.FileField(upload_to="council/comments/%Y/%m/", blank=True)
    photo_type = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["topic", "created_at"], name="comment_topic_at")]

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.body[:30]}"


class Mention(models.Model):
    """A user or a department named with @ in a comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    department = models.ForeignKey("registry.Department", on_delete=models.CASCADE, null=True,
                                   blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["topic", "user"], name="mention_topic_user")]

    def __str__(self) -> str:
        return f"{self.comment_id} @{self.user_id or self.department_id}"


class Notice(models.Model):
    """One reason to tell a user about a topic. Delivered at once, or bundled into a digest when
    the user was already told about the same topic within the hour (no flood)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    reason = models.CharField(max_length=16, default="mention")
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "topic", "delivered_at"], name="notice_user")]

    def __str__(self) -> str:
        return f"{self.user_id} ← {self.topic_id} ({self.reason})"


class MeetingKind(models.TextChoices):
    HEARING = "hearing", _("hearing")
    COORDINATION = "coordination", _("coordination meeting")
    EVALUATION = "evaluation", _("evaluation meeting")


class Meeting(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="meetings")
    path = models.CharField(max_length=255, default="")
    compound = models.ForeignKey("registry.Compound", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="meetings")
    public = models.BooleanField(_("public"), default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    minutes = models.TextField(_("minutes"), blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    checkin_nonce = models.CharField(max_length=24, default=new_nonce, editable=False)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [path_index("meeting"),
                   models.Index(fields=["council", "starts_at"], name="meeting_council_at")]

    def __str__(self) -> str:
        return self.title


class Invitation(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(CouncilMember, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "member"],
                                               name="invitation_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id} → {self.member_id}"


class Registration(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"],
                                               name="registration_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id} ← {self.user_id}"


class Attendance(models.Model):
    class Method(models.TextChoices):
        QR = "qr", _("QR check-in")
        MANUAL = "manual", _("entered by staff")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    name = models.CharField(max_length=60)
    method = models.CharField(max_length=8, choices=Method.choices)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"],
                                               condition=models.Q(user__isnull=False),
                                               name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.name}"


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="decisions")
    text = models.TextField()
    resolves_topic = models.BooleanField(default=False)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return self.text[:40]


# --- consultations ---------------------------------------------------------------------------

class Consultation(models.Model):
    class Kind(models.TextChoices):
        CONSENT = "consent", _("written consent of a group")
        OWNERS_VOTE = "owners_vote", _("owners' vote (Civil Code art. 278)")

    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="consultations")
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="consultations")
    path = models.CharField(max_length=255, default="")
    compound = models.ForeignKey("registry.Compound", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    # consent: "unanimity" or a share threshold; owners_vote: art. 278 matter and electorate
    unanimous = models.BooleanField(default=True)
    threshold_num = models.PositiveIntegerField(default=1)
    threshold_den = models.PositiveIntegerField(default=1)
    bound = models.CharField(max_length=10, default="at_least")
    matter = models.CharField(max_length=32, blank=True)
    scope = models.CharField(max_length=10, blank=True)
    scope_code = models.CharField(max_length=40, blank=True)
    max_dwellings_per_proxy = models.PositiveIntegerField(null=True, blank=True)
    closed = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    # the engine's last result
    result_status = models.CharField(max_length=12, blank=True)
    result_reason = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_digest = models.CharField(max_length=64, blank=True)
    participants = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        indexes = [path_index("consultation")]

    def __str__(self) -> str:
        return self.title


class ConsentMember(models.Model):
    """One member of a consent campaign (e.g. one of the 13 tenant households)."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="consent_members")
    key = models.CharField(max_length=60)
    label = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "key"],
                                               name="consentmember_once")]
        ordering = ["consultation_id", "key"]

    def __str__(self) -> str:
        return f"{self.key} {self.label}"


class ConsentReply(models.Model):
    member = models.OneToOneField(ConsentMember, on_delete=models.PROTECT, related_name="reply")
    answer = models.CharField(max_length=8)
    source = models.CharField(max_length=8, default="written")
    entered_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.member_id}: {self.answer}"


class DwellingOwner(models.Model):
    """One row of the owners' register (业主名册): one owner of one dwelling (专有部分).

    ``owner_ref`` is a stable pseudonymous id of the person: the same person holding several
    dwellings has the same ``owner_ref`` on each (the engine's headcount, art. 9); co-owners of
    a dwelling are several rows of it. Personal data is the minimum: the name, the last four
    characters of the ID number and a phone, which lists show masked. ``source`` says how the
    row came in (``manual`` by staff; a later spreadsheet import writes ``import`` rows with
    its batch in ``source_ref``). Only services in ``council.services.owners`` write it."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("entered by staff")
        IMPORT = "import", _("imported")

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE,
                                  related_name="owners")
    owner_ref = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=60, blank=True)
    id_last4 = models.CharField(_("ID number, last 4"), max_length=4, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    source_ref = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("owners' register entry")
        verbose_name_plural = _("owners' register")
        constraints = [models.UniqueConstraint(fields=["household", "owner_ref"],
                                               name="dwellingowner_once")]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.owner_ref}"


class OwnerLink(models.Model):
    """A user account claiming to be an owner in the register. Not valid until the
    neighbourhood's staff verify it; only a verified link lets the account vote online (and
    grant a proxy) for that dwelling."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("waiting for verification")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")
        REVOKED = "revoked", _("revoked")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="owner_links")
    owner = models.ForeignKey(DwellingOwner, on_delete=models.PROTECT, related_name="links")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("owner account link")
        verbose_name_plural = _("owner account links")
        constraints = [
            models.UniqueConstraint(fields=["owner"], condition=models.Q(status="verified"),
                                    name="ownerlink_one_verified_account"),
            models.UniqueConstraint(fields=["user", "owner"],
                                    condition=models.Q(status__in=["requested", "verified"]),
                                    name="ownerlink_one_open_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.owner_id} ({self.status})"


class OwnerEvent(models.Model):
    """Append-only history of the owners' register, account links, proxies and ballots: who
    did what, when, to which row."""

    kind = models.CharField(max_length=24)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    owner = models.ForeignKey(DwellingOwner, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    link = models.ForeignKey(OwnerLink, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="events")
    consultation = models.ForeignKey("Consultation", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="owner_events")
    household = models.ForeignKey("registry.Household", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class VoteDwelling(models.Model):
    """The electorate of an owners' vote, frozen when the vote opens."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="dwellings")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT,
                                  related_name="+")
    area = models.DecimalField(max_digits=10, decimal_places=2)
    owners = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "household"],
                                               name="votedwelling_once")]

    def __str__(self) -> str:
        return f"{self.consultation_id}: {self.household_id}"


class VoteBallot(models.Model):
    """One ballot. ``cast_by`` is the owner's ``owner_ref`` (or a proxy's holder): for an
    online ballot it is taken from the voter's verified owner link, never from a form.
    ``cast_by_user`` is the account that cast it online (owner or proxy holder);
    ``entered_by`` the staff who keyed in a paper ballot, with its ``paper_number``."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="ballots")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT,
                                  related_name="+")
    choice = models.CharField(max_length=8)
    source = models.CharField(max_length=8)
    cast_by = models.CharField(max_length=40)
    cast_by_user = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    entered_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    paper_number = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consultation", "household", "source"],
                                    name="voteballot_one_per_source"),
            models.UniqueConstraint(fields=["consultation", "paper_number"],
                                    condition=~models.Q(paper_number=""),
                                    name="voteballot_paper_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.choice} ({self.source})"


class VoteProxy(models.Model):
    """A proxy (授权委托): an owner of a dwelling lets ``holder`` vote for it in this vote.
    Granted online by the owner's verified account (``granted_by_user``) or recorded by staff
    from the signed form (``recorded_by``); revoked by either, with who and when."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="proxies")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT,
                                  related_name="+")
    granted_by = models.CharField(max_length=40)
    holder = models.CharField(max_length=40)
    holder_user = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    granted_by_user = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    granted_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    revoked_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.household_id}: {self.granted_by} → {self.holder}"


# --- resources, needs, projects, grants --------------------------------------------------------

class ResourceOffer(models.Model):
    """An item on a unit's menu of what it offers (资源清单)."""

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="resources")
    path = models.CharField(max_length=255, default="")
    unit = models.ForeignKey("registry.Unit", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    provider = models.CharField(max_length=120)
    title = models.CharField(max_length=120)
    category = models.CharField(max_length=40, db_index=True)
    capacity = models.PositiveIntegerField(default=1)
    compound = models.ForeignKey("registry.Compound", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.provider} · {self.title}"


class Need(models.Model):
    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="needs")
    path = models.CharField(max_length=255, default="")
    title = models.CharField(max_length=120)
    category = models.CharField(max_length=40, db_index=True)
    size = models.PositiveIntegerField(default=1)
    compound = models.ForeignKey("registry.Compound", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    matched_resource = models.ForeignKey(ResourceOffer, on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="matches")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.title


class Project(models.Model):
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="projects")
    path = models.CharField(max_length=255, default="")
    compound = models.ForeignKey("registry.Compound", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="projects")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    public = models.BooleanField(default=True)
    progress = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [path_index("project")]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=120)
    weight = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    progress = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project_id", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Fund(models.Model):
    """A council's self-governance fund (自治金)."""

    council = models.OneToOneField(Council, on_delete=models.PROTECT, related_name="fund")
    credited = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    reserved = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"fund of {self.council_id}"


class SelfGovernanceGrant(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="grants")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="grants")
    requested = models.DecimalField(max_digits=12, decimal_places=2)
    approved = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    spent = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=10, default="applied")

    def __str__(self) -> str:
        return f"grant {self.pk} ({self.status})"


class LedgerEntry(models.Model):
    """Append-only: every event of a fund, replayed through ``council.progress`` to check it."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    grant = models.ForeignKey(SelfGovernanceGrant, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="entries")
    kind = models.CharField(max_length=10)  # credit, apply, approve, reject, spend
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    receipt = models.CharField(max_length=60, blank=True)
    # A checked JPEG or PNG of the receipt (core.photos), stored under a name of ours.
    receipt_file = models.FileField(upload_to="council/receipts/%Y/%m/", blank=True)
    note = models.CharField(max_length=200, blank=True)
    by = models.CharField(max_length=60)
    at = models.DateTimeField()

    class Meta:
        ordering = ["fund_id", "at", "id"]
        indexes = [models.Index(fields=["fund", "at"], name="ledger_fund_at")]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.kind} {self.amount}"
