"""A synthetic AWS Organization and its daily Cost Explorer line items.

Everything here is a pure function of the constructor arguments (and the date asked for):
no clock, no global random state, so every run, process and machine sees the same ids and costs.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sandbox.config import ACCOUNT_ID

HISTORY_START = date(2025, 1, 1)  # no cost data before this day ("a day with no costs")
COST_METRICS = (
    "UnblendedCost",
    "BlendedCost",
    "AmortizedCost",
    "NetAmortizedCost",
    "NetUnblendedCost",
)
_TEN_DP = Decimal("0.0000000001")

# (Cost Explorer SERVICE value, usage types, flat = no weekend dip, relative weight, unit price)
_REAL_SERVICES: tuple[tuple[str, tuple[str, ...], bool, float, float], ...] = (
    (
        "Amazon Elastic Compute Cloud - Compute",
        ("USE1-BoxUsage:m5.large", "USE1-BoxUsage:c6g.xlarge"),
        False,
        4.0,
        0.096,
    ),
    (
        "Amazon Simple Storage Service",
        ("USE1-TimedStorage-ByteHrs", "USE1-Requests-Tier1"),
        True,
        1.5,
        0.023,
    ),
    (
        "Amazon Relational Database Service",
        ("USE1-InstanceUsage:db.r6g.large", "USE1-RDS:GP3-Storage"),
        False,
        3.0,
        0.225,
    ),
    ("AWS Lambda", ("USE1-Lambda-GB-Second", "USE1-Request"), False, 0.5, 0.0000166667),
    ("Amazon CloudFront", ("US-DataTransfer-Out-Bytes", "US-Requests-Tier1"), False, 1.5, 0.085),
    ("Amazon DynamoDB", ("USE1-TimedStorage-ByteHrs", "USE1-ReadRequestUnits"), False, 1.0, 0.25),
    (
        "Amazon Elastic Container Service for Kubernetes",
        ("USE1-AmazonEKS-Hours:perCluster",),
        True,
        1.0,
        0.10,
    ),
    (
        "AmazonCloudWatch",
        ("USE1-CW:MetricMonitorUsage", "USE1-DataProcessing-Bytes"),
        True,
        0.6,
        0.30,
    ),
    ("AWS Key Management Service", ("USE1-KMS-Keys", "USE1-KMS-Requests"), True, 0.1, 1.0),
    (
        "Amazon Virtual Private Cloud",
        ("USE1-NatGateway-Hours", "USE1-VpcEndpoint-Hours"),
        True,
        0.8,
        0.045,
    ),
    ("Amazon Simple Queue Service", ("USE1-Requests-RBP",), False, 0.2, 0.0000004),
    (
        "Amazon Elastic Load Balancing",
        ("USE1-LoadBalancerUsage", "USE1-LCUUsage"),
        True,
        0.8,
        0.0225,
    ),
    ("Amazon Athena", ("USE1-DataScannedInTB",), False, 0.4, 5.0),
    ("AWS Glue", ("USE1-Crawler-DPU-Hour", "USE1-ETL-DPU-Hour"), False, 0.6, 0.44),
    ("Amazon Redshift", ("USE1-Node:ra3.xlplus",), True, 2.5, 1.086),
    ("Amazon SageMaker", ("USE1-Notebk:ml.t3.medium", "USE1-Train:ml.m5.xlarge"), False, 1.5, 0.05),
    ("Amazon Kinesis", ("USE1-ShardHour", "USE1-PutRequestPayloadUnits"), True, 0.6, 0.015),
    ("Amazon Route 53", ("HostedZone", "DNS-Queries"), True, 0.1, 0.5),
    ("AWS Config", ("USE1-ConfigurationItemRecorded",), True, 0.2, 0.003),
    ("Amazon GuardDuty", ("USE1-PaidEventsAnalyzed",), True, 0.3, 0.000004),
    ("AWS Security Hub", ("USE1-PaidComplianceCheck",), True, 0.2, 0.001),
    ("Amazon OpenSearch Service", ("USE1-ESInstance:r6g.large.search",), True, 1.5, 0.167),
    ("Amazon ElastiCache", ("USE1-NodeUsage:cache.r6g.large",), True, 1.2, 0.206),
    ("AWS Backup", ("USE1-WarmStorage-ByteHrs-EBS",), True, 0.3, 0.05),
    (
        "EC2 - Other",
        ("USE1-EBS:VolumeUsage.gp3", "USE1-DataTransfer-Regional-Bytes"),
        True,
        1.2,
        0.08,
    ),
    ("Amazon Elastic Container Service", ("USE1-Fargate-vCPU-Hours:perCPU",), False, 0.8, 0.04048),
    ("Amazon Simple Notification Service", ("USE1-Requests-Tier1",), False, 0.1, 0.0000005),
    ("AWS Secrets Manager", ("USE1-AWSSecretsManager-Secrets",), True, 0.1, 0.4),
    ("AWS CloudTrail", ("USE1-PaidEventsRecorded",), True, 0.2, 0.00001),
    ("Amazon Simple Email Service", ("USE1-Recipients",), False, 0.1, 0.0001),
)
# Services most accounts run (landing-zone baseline); the rest are picked per account.
_BASELINE = {
    "Amazon Elastic Compute Cloud - Compute",
    "Amazon Simple Storage Service",
    "AmazonCloudWatch",
    "AWS Key Management Service",
    "Amazon Virtual Private Cloud",
    "AWS Config",
    "Amazon GuardDuty",
}
_SAVINGS_PLAN_SERVICES = {"Amazon Elastic Compute Cloud - Compute", "AWS Lambda"}

# Top-level OU layout of the default organisation: (name, parent name or None, account weight).
_DEFAULT_OUS: tuple[tuple[str, str | None, int], ...] = (
    ("Engineering", None, 4),
    ("Platform", "Engineering", 5),
    ("Data", None, 5),
    ("Marketing", None, 4),
    ("Sales", None, 4),
    ("Finance", None, 3),
    ("Security", None, 4),
    ("Sandbox", None, 0),  # deliberately empty
)
_ACCOUNT_SUFFIXES = ("prod", "staging", "dev", "shared", "analytics", "sandbox", "tools", "dr")


def _h(*parts: object) -> int:
    """Stable 64-bit hash of the parts (Python's hash() is salted per process)."""
    return _h_text("\x1f".join(map(str, parts)))


def _h_text(text: str) -> int:
    """``_h`` of parts already joined with "\\x1f" (the generator's hot loop builds them once)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _u(*parts: object) -> float:
    """Stable uniform number in [0, 1) from the parts."""
    return _h(*parts) / 2**64


def _dec(value: float) -> Decimal:
    """A float as a Decimal with Cost Explorer's 10 decimal places."""
    return Decimal(f"{value:.10f}")


@dataclass(frozen=True)
class OU:
    """An organizational unit; path is the name chain below the root, e.g. "Engineering/Platform"."""

    id: str
    name: str
    parent_id: str
    path: str


@dataclass(frozen=True)
class Account:
    """A member (or the management) account; parent_id is the root id or an OU id."""

    id: str
    name: str
    email: str
    parent_id: str


@dataclass(frozen=True)
class Service:
    """A Cost Explorer SERVICE value with what the generator needs to price it."""

    name: str
    usage_types: tuple[str, ...]
    flat: bool
    weight: float
    unit_price: float


class _Profile(NamedTuple):
    """What an account's lines take from it on every day (its services, levels, discounts)."""

    discount: Decimal  # 1 - the EDP discount, as the net metrics multiply it
    has_discount: bool
    credit: bool
    refund: bool
    tax: bool
    # (service, weekday level, Decimal blend factor, Decimal amortisation factor,
    #  Decimal unit price, "seed\x1faccount\x1fservice\x1f" for the day's random stream)
    services: tuple[tuple[Service, float, Decimal, Decimal, Decimal, str], ...]


class Spike(NamedTuple):
    """An injected anomaly: extra_amount USD added to one account's service on one day."""

    day: date
    ou_path: str
    service: str
    account_id: str
    extra_amount: Decimal


@dataclass(frozen=True, slots=True)
class CostLine:
    """One Cost Explorer line item (one day, account, service, record type, usage type)."""

    day: date
    account_id: str
    service: str
    record_type: str
    usage_type: str
    amounts: dict[str, Decimal] = field(hash=False)
    usage_quantity: Decimal = Decimal("0")


_ZERO = Decimal(0)
_ONE = Decimal(1)


def _priced_line(
    day: date,
    account_id: str,
    service: str,
    record_type: str,
    usage_type: str,
    unblended: Decimal,
    blend: Decimal,
    amort: Decimal,
    net: Decimal,
    unit_price: Decimal,
) -> CostLine:
    """``Organization._line`` with its factors already Decimals (``_dec`` of the floats; a
    line without blend, amortisation or discount passes 1): the same amounts, computed faster."""
    if unblended == 0:
        amounts = dict.fromkeys(COST_METRICS, _ZERO)
        quantity = _ONE
    else:
        amortized = (unblended * amort).quantize(_TEN_DP)
        amounts = {
            "UnblendedCost": unblended,
            "BlendedCost": (unblended * blend).quantize(_TEN_DP),
            "AmortizedCost": amortized,
            "NetAmortizedCost": (amortized * net).quantize(_TEN_DP),
            "NetUnblendedCost": (unblended * net).quantize(_TEN_DP),
        }
        quantity = (abs(unblended) / unit_price).quantize(_TEN_DP)
    return CostLine(day, account_id, service, record_type, usage_type, amounts, quantity)


def _make_services(count: int) -> list[Service]:
    """The first `count` real services, then generated names past the real list."""
    services = [Service(*row) for row in _REAL_SERVICES[:count]]
    for n in range(len(services), count):
        slug = f"Synthetic{n:03d}"
        services.append(
            Service(f"AWS Synthetic Service {n:03d}", (f"USE1-{slug}-Usage",), n % 2 == 0, 0.4, 0.1)
        )
    return services


class Organization:
    """The synthetic organisation: ids, tree, services, and a pure cost generator."""

    def __init__(
        self,
        *,
        seed: int,
        root_id: str,
        org_id: str,
        ous: list[OU],
        accounts: list[Account],
        services: list[Service],
        spikes: list[Spike],
        pinned_levels: dict[tuple[str, str], float],
    ) -> None:
        self.seed = seed
        self.root_id = root_id
        self.org_id = org_id
        self.management_account_id = ACCOUNT_ID
        self.ous = ous
        self.accounts = accounts
        self.services = services
        self.spikes = spikes
        # Days after (as_of - 2) are answered with Estimated: true; None = nothing estimated.
        self.as_of: date | None = None
        self._pinned_levels = pinned_levels
        self._service_by_name = {s.name: s for s in services}
        self._ou_by_id = {ou.id: ou for ou in ous}
        self._account_by_id = {a.id: a for a in accounts}
        # lru_cache on a bound method would keep the whole object alive; cache per instance.
        self._lines_cached = lru_cache(maxsize=50_000)(self._account_day_lines)
        # Every hash that does not depend on the day, once per account (the same for all days).
        self._profile = lru_cache(maxsize=50_000)(self._account_profile)

    # ----------------------------------------------------------------------------- construction
    @classmethod
    def synthetic(
        cls, ous: int = 8, accounts: int = 30, services: int = 24, seed: int = 2025
    ) -> Organization:
        """Build a deterministic organisation.

        ous: OUs in total (nested included; the first 8 are the named default layout, one of
        them "Sandbox" with no accounts); accounts: member accounts besides the management
        account (one sits directly under the root); services: distinct SERVICE values.
        The default (8, 30, 24) is the demo organisation; (50, 2000, 150) is the large one.
        """
        if ous < 1 or accounts < 1 or services < 8:
            raise ValueError("need at least 1 OU, 1 account and 8 services")
        root_id = f"r-{_h(seed, 'root') % 36**4:04x}"[:6]
        org_id = f"o-{_h(seed, 'org'):016x}"[:12]
        layout = list(_DEFAULT_OUS[:ous])
        for n in range(len(layout), ous):
            # Every fourth generated OU nests under the one before, so deep trees stay common.
            parent = layout[-1][0] if n % 4 == 3 else None
            layout.append((f"Division-{n:02d}", parent, 1 + _h(seed, "ouw", n) % 6))

        ou_list: list[OU] = []
        by_name: dict[str, OU] = {}
        for n, (name, parent_name, _weight) in enumerate(layout):
            parent = by_name.get(parent_name) if parent_name else None
            ou = OU(
                id=f"ou-{root_id[2:]}-{_h(seed, 'ou', n) % 16**8:08x}",
                name=name,
                parent_id=parent.id if parent else root_id,
                path=f"{parent.path}/{name}" if parent else name,
            )
            ou_list.append(ou)
            by_name[name] = ou

        # Largest-remainder split of the member accounts (one stays under the root).
        members = accounts - 1
        weights = [w for _, _, w in layout]
        total_w = sum(weights) or 1
        quotas = [members * w / total_w for w in weights]
        counts = [int(q) for q in quotas]
        order = sorted(range(len(layout)), key=lambda i: (-(quotas[i] - counts[i]), i))
        for i in order[: members - sum(counts)]:
            counts[i] += 1

        used_ids = {ACCOUNT_ID}

        def new_id(n: int) -> str:
            salt = 0
            while True:
                candidate = str(100_000_000_000 + _h(seed, "acct", n, salt) % 899_999_999_999)
                if candidate not in used_ids:
                    used_ids.add(candidate)
                    return candidate
                salt += 1

        account_list = [Account(ACCOUNT_ID, "management", "aws+management@example.com", root_id)]
        n = 0
        for ou, count in zip(ou_list, counts, strict=True):
            slug = ou.path.lower().replace("/", "-")
            for k in range(count):
                suffix = _ACCOUNT_SUFFIXES[k % len(_ACCOUNT_SUFFIXES)]
                name = f"{slug}-{suffix}" + (f"-{k // len(_ACCOUNT_SUFFIXES)}" if k >= 8 else "")
                account_list.append(Account(new_id(n), name, f"aws+{name}@example.com", ou.id))
                n += 1
        account_list.append(
            Account(new_id(n), "audit-log-archive", "aws+audit@example.com", root_id)
        )

        service_list = _make_services(services)
        spikes: list[Spike] = []
        pinned: dict[tuple[str, str], float] = {}
        marketing = by_name.get("Marketing")
        marketing_accounts = [a for a in account_list if marketing and a.parent_id == marketing.id]
        names = {s.name for s in service_list}
        if marketing_accounts and "Amazon CloudFront" in names:
            # The demo day's anomaly: CloudFront normally a few hundred dollars a day, +$2,500.
            target = marketing_accounts[0]
            pinned[(target.id, "Amazon CloudFront")] = 320.0
            spikes.append(
                Spike(date(2025, 9, 14), "Marketing", "Amazon CloudFront", target.id, Decimal(2500))
            )
        return cls(
            seed=seed,
            root_id=root_id,
            org_id=org_id,
            ous=ou_list,
            accounts=account_list,
            services=service_list,
            spikes=spikes,
            pinned_levels=pinned,
        )

    # ----------------------------------------------------------------------------- tree helpers
    def ou_by_path(self, path: str) -> OU:
        """The OU with this path (e.g. "Engineering/Platform"); KeyError if none."""
        for ou in self.ous:
            if ou.path == path:
                return ou
        raise KeyError(path)

    def account(self, account_id: str) -> Account:
        """The account with this id; KeyError if none."""
        return self._account_by_id[account_id]

    def accounts_in(self, parent_id: str, recursive: bool = False) -> list[Account]:
        """Accounts directly under parent_id (root or OU id), or in its whole subtree."""
        parents = {parent_id}
        if recursive:
            changed = True
            while changed:
                changed = False
                for ou in self.ous:
                    if ou.parent_id in parents and ou.id not in parents:
                        parents.add(ou.id)
                        changed = True
        return [a for a in self.accounts if a.parent_id in parents]

    def ou_path_of(self, account_id: str) -> str | None:
        """The OU path an account sits in, or None for accounts directly under the root."""
        ou = self._ou_by_id.get(self._account_by_id[account_id].parent_id)
        return ou.path if ou else None

    # ----------------------------------------------------------------------------- cost model
    def services_of(self, account_id: str) -> list[Service]:
        """The services an account uses (deterministic subset; spiked services always in)."""
        pinned = {svc for (acct, svc) in self._pinned_levels if acct == account_id}
        chosen = []
        for svc in self.services:
            share = 90 if svc.name in _BASELINE else 35
            if svc.name in pinned or _h(self.seed, account_id, svc.name, "uses") % 100 < share:
                chosen.append(svc)
        return chosen

    def _level(self, account_id: str, svc: Service) -> float:
        """Typical weekday USD/day of one account's service: $0.20 .. ~$3,000, heavy-tailed."""
        pinned = self._pinned_levels.get((account_id, svc.name))
        if pinned is not None:
            return pinned
        if _h(self.seed, account_id, svc.name, "tiny") % 11 == 0:
            return 0.01 + 0.08 * _u(self.seed, account_id, svc.name, "cents")  # a few cents
        u = _u(self.seed, account_id, svc.name, "level")
        return min(3000.0, 0.2 * 15000 ** (u**3.2) * svc.weight)

    def cost_lines(self, day: date, account_ids: frozenset[str] | None = None) -> list[CostLine]:
        """Every line item of `day` (optionally only for some accounts). Empty before 2025-01-01."""
        if day < HISTORY_START:
            return []
        wanted = account_ids if account_ids is not None else self._account_by_id.keys()
        lines: list[CostLine] = []
        for account in self.accounts:
            if account.id in wanted:
                lines.extend(self._lines_cached(account.id, day))
        return lines

    def _account_profile(self, account_id: str) -> _Profile:
        """The day-independent part of an account's cost model (hashes computed once)."""
        seed = self.seed
        discount = 0.02 if _h(seed, account_id, "edp") % 3 == 0 else 0.0
        services = []
        for svc in self.services_of(account_id):
            blend = 1 + (_u(seed, account_id, svc.name, "blend") - 0.5) * 0.02
            amort = 0.92 if svc.name in _SAVINGS_PLAN_SERVICES else 1.0
            services.append(
                (
                    svc,
                    self._level(account_id, svc),
                    _dec(blend),
                    _dec(amort),
                    _dec(svc.unit_price),
                    f"{seed}\x1f{account_id}\x1f{svc.name}\x1f",
                )
            )
        return _Profile(
            discount=Decimal(1) - _dec(discount),
            has_discount=bool(discount),
            credit=_h(seed, account_id, "credit") % 4 == 0,
            refund=_h(seed, account_id, "refund") % 5 == 0,
            tax=_h(seed, account_id, "tax") % 2 == 0,
            services=tuple(services),
        )

    def _account_day_lines(self, account_id: str, day: date) -> tuple[CostLine, ...]:
        """One account's lines for one day (cached: the generator is pure)."""
        profile = self._profile(account_id)
        age = (day - HISTORY_START).days
        growth = 1.0 + 0.0007 * age  # ~ +25 % a year
        weekend = day.weekday() >= 5
        day_text = day.isoformat()
        spikes = {
            s.service: s.extra_amount
            for s in self.spikes
            if s.day == day and s.account_id == account_id
        }
        line = _priced_line
        net = profile.discount
        lines: list[CostLine] = []
        usage_total = Decimal(0)
        for svc, level, blend, amort, price, prefix in profile.services:
            rng = random.Random(_h_text(prefix + day_text))
            cost = level * growth * (1 + rng.uniform(-0.04, 0.04))
            if weekend and not svc.flat:
                cost *= 0.62
            split = (1.0,) if len(svc.usage_types) == 1 or cost < 20 else (0.75, 0.25)
            for k, share in enumerate(split):
                unblended = _dec(cost * share)
                if k == 0 and svc.name in spikes:
                    unblended += spikes[svc.name]
                lines.append(
                    line(
                        day, account_id, svc.name, "Usage", svc.usage_types[k], unblended,
                        blend, amort, net, price,
                    )
                )  # fmt: skip
                usage_total += unblended
            if rng.random() < 0.03:
                # Free-tier usage: Cost Explorer reports the line with amount "0".
                lines.append(
                    line(
                        day, account_id, svc.name, "Usage", f"{svc.usage_types[0]}-FreeTier",
                        _ZERO, _ONE, _ONE, _ONE, price,
                    )
                )  # fmt: skip
            if svc.name == "Amazon Elastic Compute Cloud - Compute" and profile.credit:
                credit = -_dec(cost * 0.08)
                lines.append(
                    line(
                        day, account_id, svc.name, "Credit", svc.usage_types[0], credit,
                        _ONE, _ONE, _ONE, price,
                    )
                )  # fmt: skip
            if svc.name == "Amazon Simple Storage Service" and day.day == 15 and profile.refund:
                refund = -_dec(cost * 3)
                lines.append(
                    line(
                        day, account_id, svc.name, "Refund", svc.usage_types[0], refund,
                        _ONE, _ONE, _ONE, price,
                    )
                )  # fmt: skip
        if profile.tax and usage_total > 0:
            tax = _dec(float(usage_total) * 0.06)
            lines.append(line(day, account_id, "Tax", "Tax", "Tax", tax, _ONE, _ONE, _ONE, _ONE))
        return tuple(lines)

    @staticmethod
    def _line(
        day: date,
        account_id: str,
        svc: Service,
        record_type: str,
        usage_type: str,
        unblended: Decimal,
        blend: float,
        amort: float,
        discount: float,
    ) -> CostLine:
        """A line with the five cost metrics derived from the unblended amount."""
        if unblended == 0:
            amounts = dict.fromkeys(COST_METRICS, Decimal(0))
            quantity = Decimal(1)
        else:
            amortized = (unblended * _dec(amort)).quantize(_TEN_DP)
            net = Decimal(1) - _dec(discount)
            amounts = {
                "UnblendedCost": unblended,
                "BlendedCost": (unblended * _dec(blend)).quantize(_TEN_DP),
                "AmortizedCost": amortized,
                "NetAmortizedCost": (amortized * net).quantize(_TEN_DP),
                "NetUnblendedCost": (unblended * net).quantize(_TEN_DP),
            }
            quantity = (abs(unblended) / _dec(svc.unit_price)).quantize(_TEN_DP)
        return CostLine(day, account_id, svc.name, record_type, usage_type, amounts, quantity)

    def daily_total(self, day: date, metric: str = "UnblendedCost") -> Decimal:
        """Sum of one metric over every line of the day (all record types)."""
        return sum((line.amounts[metric] for line in self.cost_lines(day)), Decimal(0))
