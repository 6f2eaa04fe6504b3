"""The true world behind a synthetic corpus, faithful to the domain: the 80 networks, each in one district and
made of schools of that district's registry (bma_schools.csv), one lead school per network; a network
led by a school missing from the registry only at UNREGISTERED_LEAD_RATE; officers attached to their
district, coordinators to the districts they follow; invented names for people and projects. Everything
is drawn from one seeded random generator, so a seed is a world. Rates: synth/PHENOMENA.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from common.records import Reference

if TYPE_CHECKING:
    from synth.stories import Story

FIRST_NAMES = ["สมชาย", "สมศรี", "วรวิทย์", "ณัฐพิมล", "ทิพวรรณ", "ประเสริฐ", "กิตติพงษ์", "สุภาพร", "อรุณี", "ชัยวัฒน์",
               "พรทิพย์", "ธนากร", "ศิริพร", "วิไลวรรณ", "สุรเชษฐ์", "จันทร์เพ็ญ", "นพดล", "ปิยะนุช", "อนุชา", "รัตนา",
               "กมลชนก", "เกียรติศักดิ์", "ดวงใจ", "ปรีชา", "วันเพ็ญ", "สมบัติ", "อัญชลี", "ภานุวัฒน์", "นิภาพร", "ธีรพงศ์",
               "มาลัย", "สุนทร", "เพ็ญศรี", "ชาญวิทย์", "บุญเรือน", "ยุทธนา", "ลำดวน", "สมหมาย", "อำนาจ", "กัลยา"]
SURNAMES = ["ทวีคุณ", "เทียงธรรม", "บุญวงศ์", "ศิริบุญ", "เพชรมณี", "ใจดีงาม", "รุ่งเรืองศรี", "สุขสวัสดิ์", "แก้วมณี",
            "ทองประเสริฐ", "ศรีสุข", "พงษ์ไพบูลย์", "วงศ์สวัสดิ์", "จันทร์แก้ว", "มั่นคงดี", "เจริญผล", "สิริภักดิ์กุล",
            "อินทร์ทอง", "ชูติกาญจน์", "บำรุงราษฎร์", "นาคสุข", "คำแหง", "ประดิษฐ์ผล", "เลิศวิไล", "ธรรมรักษ์",
            "สายสุวรรณ", "พูลสวัสดิ์", "ดำรงค์ชัย", "ศักดิ์ศรี", "หอมจันทร์"]
SCHOOL_HEADS = ["วัด", "วัด", "วัด", "บ้าน", "คลอง", "สุเหร่า", ""]
SCHOOL_WORDS = ["ทองพูน", "ศรีนิมิต", "บัวงาม", "ประชาสรรค์", "สามัคคีธรรม", "ใหม่เจริญ", "หนองน้ำใส", "ตะวันรุ่ง",
                "บางเตย", "ลำพะยอม", "สวนส้ม", "นาคบำรุง", "โพธิ์ทอง", "แสงอรุณ", "ชลประทาน", "ปากน้ำเหนือ",
                "เกาะกลาง", "ท่าข้าม", "พรหมรังสี", "มหาวนาราม", "ทุ่งมะขาม", "ดอนกลาง", "คลองขวาง", "หลวงพ่อใหญ่",
                "ศาลาแดง", "บึงบัว", "นิลวงศ์", "อินทราวาส", "ประทุมทอง", "สระแก้ว"]
DEPARTMENT_PROJECTS = ["โครงการพัฒนาคุณภาพการศึกษาโรงเรียนสังกัดกรุงเทพมหานคร", "โครงการส่งเสริมสุขภาพนักเรียน",
                       "โครงการพัฒนาศักยภาพบุคลากรทางการศึกษา", "โครงการจัดระเบียบพื้นที่สาธารณะ"]
PROJECT_NAMES = ["โครงการพัฒนาคุณภาพเครือข่ายโรงเรียน", "โครงการพัฒนาคุณภาพการดำเนินงานศูนย์วิชาการเขต",
                 "โครงการส่งเสริมการอ่านของนักเรียน", "โครงการพัฒนาครูด้านการจัดการเรียนรู้", "โครงการนิทรรศการวิชาการเครือข่าย"]
NOTES = ["อยู่ระหว่างขั้นตอนขออนุมัติโครงการ", "จัดสรรงบประมาณให้เครือข่ายโรงเรียนแล้ว",
         "เครือข่ายดำเนินการประชุมวางแผนกำหนดจัดประกวดคัดเลือกครูดีเด่น", "ดำเนินการจัดนิทรรศการแสดงผลงานเรียบร้อยแล้ว",
         "อยู่ระหว่างการดำเนินการจัดกิจกรรม", "ขออนุมัติเบิกจ่ายเงินแล้ว", "ชะลอการจัดกิจกรรมเนื่องจากสถานการณ์โรคระบาด",
         "เตรียมแผนงานและดำเนินการระหว่างปีงบประมาณ", "รายงานผลการดำเนินโครงการให้ผู้บริหารเขตทราบ"]
# networks whose district the real dumps (and a BMA news page, for 77) tell
KNOWN_NETWORKS = {53: "5021", 54: "5021", 55: "5021", 71: "5023", 72: "5023", 75: "5024", 77: "5050"}
KNOWN_LEADS = {53: "วัดนิมมานรดี", 54: "วัดจันทร์ประดิษฐาราม", 55: "วัดอ่างแก้ว (จีบ ปานขำ)"}  # dump 001
NETWORKS = 80
# A network whose lead school is missing from the registry (a new or renamed school): rare by the domain; at
# this rate ~3 of the 80 networks, so school_not_in_registry is exercised and stays rare.
UNREGISTERED_LEAD_RATE = 0.04
COORDINATORS, DISTRICTS_PER_COORDINATOR = 40, 3
YEARS = tuple(range(2560, 2570))
# the departments whose projects the crawled pages of the tracking system show (issue 20: 08000000, 09000000,
# 15000000, 18000000, 22000000, 23000000); 18000000 prints the name it has today, not the list's
DEPARTMENTS = ("08000000", "09000000", "15000000", "18000000", "22000000", "23000000")
RENAMED = {"18000000": "สำนักการวางผังและพัฒนาเมือง"}
DEPARTMENT_UNITS = {"08000000": ["กองสุขาภิบาลอาหาร", "กลุ่มงานส่งเสริมสุขภาพ", "กองควบคุมโรค"],
                    "09000000": ["กองนโยบายและแผนงานการศึกษา", "กลุ่มงานพัฒนาคุณภาพการศึกษา", "กองการศึกษาพิเศษ"],
                    "15000000": ["กองนโยบายและแผนงาน", "กลุ่มงานจัดระเบียบ"],
                    "18000000": ["กองวางผังเมือง", "กลุ่มงานแผนพัฒนาเมือง"],
                    "22000000": ["กองจัดการสิ่งแวดล้อม", "กลุ่มงานคุณภาพอากาศ"],
                    "23000000": ["กองการท่องเที่ยว", "กลุ่มงานกีฬาและนันทนาการ"]}
# an officer's phone: an extension, a full number, none, or an extension that reads like a BE year ('2548')
PHONE_SHAPES = ("extension", "extension", "full", "none", "year_like")


@dataclass(frozen=True)
class TruePerson:
    person_id: str
    family: str
    title: str
    first: str
    last: str
    phone: str | None
    district_id: str | None
    agency_code: str | None = None  # a department's officer: the department

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class TrueDepartment:
    agency_code: str
    name: str  # as its pages print it (the reference list may have an older name)
    units: tuple[str, ...]
    officers: tuple[TruePerson, ...]


@dataclass(frozen=True)
class TrueSchool:
    school_id: str
    name: str  # without โรงเรียน: the registry's name, or an invented one for a school missing from it
    network_no: int
    district_id: str
    in_registry: bool = True


@dataclass(frozen=True)
class TrueNetwork:
    network_no: int
    district_id: str
    schools: tuple[TrueSchool, ...]  # the first is the lead school, named with the network in listings


@dataclass(frozen=True)
class TrueReport:
    report_no: int
    date: date | None
    progress: Decimal
    cumulative: Decimal
    plan: str
    target: str
    note: str
    schools: tuple[tuple[str, str], ...] = ()  # (as printed, school id): the lead schools its narrative lists


@dataclass(frozen=True)
class TrueEvent:
    """What a report's narrative says of one network (fact_network_event)."""

    report_no: int
    network_no: int
    event: str
    amount: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TrueProject:
    code: str | None
    fiscal_year: int
    name: str
    district_id: str | None  # None for a department's project
    budget: Decimal
    start: date
    end: date
    officer: TruePerson
    coordinator: TruePerson
    networks: tuple[int, ...]
    leads: tuple[TrueSchool, ...]  # the lead school of each of its networks
    reports: tuple[TrueReport, ...]
    agency_code: str = ""
    agency_name: str = ""  # as printed: 'สำนักงานเขตภาษีเจริญ', 'สำนักการศึกษา'
    unit: str = "ฝ่ายการศึกษา"
    events: tuple[TrueEvent, ...] = ()
    allotments: tuple[Decimal, ...] = ()  # each network's share, in the order of networks

    @property
    def department(self) -> bool:
        return self.district_id is None


@dataclass
class World:
    districts: dict[str, str]  # id -> Thai name
    networks: dict[int, TrueNetwork]
    officers: dict[str, list[TruePerson]]  # district -> its officers
    coordinators: dict[str, list[TruePerson]]  # district -> the coordinators who follow it
    used_codes: set[str] = field(default_factory=set)
    departments: dict[str, TrueDepartment] = field(default_factory=dict)

    def networks_of(self, district_id: str) -> list[int]:
        return sorted(n for n, net in self.networks.items() if net.district_id == district_id)


def build_world(rng: random.Random, reference: Reference) -> World:
    districts = {d.district_id: d.name_th for d in reference.districts}
    networks = _networks(rng, reference)
    people = _People(rng)
    officers = {d: [people.person("officer", d, _phone(rng)) for _ in range(rng.randint(2, 3))]
                for d in sorted(districts)}
    central = [people.person("coordinator", None, f"15{i:02d}") for i in range(COORDINATORS)]
    # namesakes: different people whose names differ by one character, with their own phones
    central += [TruePerson(f"C9{i:03d}", "coordinator", central[i].title, central[i].first,
                           central[i].last[:-1] + ("ย" if central[i].last[-1] != "ย" else "น"), f"16{i:02d}", None)
                for i in range(0, COORDINATORS - 1, 8)]
    coordinators: dict[str, list[TruePerson]] = {d: [] for d in sorted(districts)}
    for person in central:
        for d in rng.sample(sorted(districts), DISTRICTS_PER_COORDINATOR):
            coordinators[d].append(person)
    for followers in coordinators.values():  # every district is followed by someone
        followers.extend([] if followers else [rng.choice(central)])
    names = {a.agency_code: a.name_th for a in reference.agencies}
    departments = {code: TrueDepartment(code, RENAMED.get(code, names[code]), tuple(DEPARTMENT_UNITS[code]),
                                        tuple(people.person("officer", None, _phone(rng), code)
                                              for _ in range(rng.randint(2, 3))))
                   for code in DEPARTMENTS}
    for code in DEPARTMENTS:
        coordinators[code] = rng.sample(central, 2)
    return World(districts, networks, officers, coordinators, departments=departments)


def _phone(rng: random.Random) -> str | None:
    shape = rng.choice(PHONE_SHAPES)
    if shape == "extension":
        return f"{rng.randint(6000, 7999)}"
    if shape == "full":
        return f"02{rng.randint(1000000, 9999999)}"
    return f"{rng.randint(2500, 2569)}" if shape == "year_like" else None


def _network_counts(reference: Reference) -> dict[str, int]:
    """Networks per district, in proportion to its registry schools (at least one, the known ones kept)."""
    schools: dict[str, int] = {}
    for s in reference.schools:
        schools[s.district_id] = schools.get(s.district_id, 0) + 1
    per_network = sum(schools.values()) / NETWORKS
    known = {d: sum(1 for v in KNOWN_NETWORKS.values() if v == d) for d in schools}
    counts = {d: max(1, known[d], int(n / per_network)) for d, n in schools.items()}
    for d in sorted(schools, key=lambda d: (counts[d] - schools[d] / per_network, d)):
        if sum(counts.values()) >= NETWORKS:
            break
        if counts[d] < schools[d]:
            counts[d] += 1
    return counts


def _networks(rng: random.Random, reference: Reference) -> dict[int, TrueNetwork]:
    """Each district's registry schools dealt out to its networks; the first school dealt leads."""
    counts = _network_counts(reference)
    free = [n for n in range(1, NETWORKS + 1) if n not in KNOWN_NETWORKS]
    networks: dict[int, TrueNetwork] = {}
    invented: set[str] = set()
    for d in sorted(counts):
        known = sorted(n for n, kd in KNOWN_NETWORKS.items() if kd == d)
        numbers = known + [free.pop(0) for _ in range(counts[d] - len(known))]
        registry = sorted(s.name_th for s in reference.schools if s.district_id == d)
        rng.shuffle(registry)
        leads = [KNOWN_LEADS[n] for n in numbers if n in KNOWN_LEADS]
        registry = leads + [name for name in registry if name not in leads]
        for k, no in enumerate(numbers):
            members = [TrueSchool(f"R:{d}:{name}", name, no, d) for name in registry[k::len(numbers)]]
            if rng.random() < UNREGISTERED_LEAD_RATE:
                name = _invented_school(rng, registry, invented)
                members.insert(0, TrueSchool(f"U:{d}:{name}", name, no, d, in_registry=False))
            networks[no] = TrueNetwork(no, d, tuple(members))
    return dict(sorted(networks.items()))


def _invented_school(rng: random.Random, registry: list[str], taken: set[str]) -> str:
    """A name shaped like a school's that no registry school of the district is close to."""
    while True:
        name = rng.choice(SCHOOL_HEADS) + rng.choice(SCHOOL_WORDS) + rng.choice(["", "", "วิทยา", "ศึกษา"])
        if name not in taken and max((fuzz.ratio(name, r) for r in registry), default=0.0) < 70:
            taken.add(name)
            return name


class _People:
    """Invented people, each name used once."""

    def __init__(self, rng: random.Random):
        self.rng, self.seen = rng, set()

    def person(self, family: str, district: str | None, phone: str | None, agency: str | None = None) -> TruePerson:
        while True:
            title = self.rng.choice(["นาย", "นาง", "นางสาว"])
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
            if f"{first} {last}" not in self.seen:
                self.seen.add(f"{first} {last}")
                prefix = "C" if family == "coordinator" else "O"
                return TruePerson(f"{prefix}{len(self.seen):04d}", family, title, first, last, phone, district,
                                  agency)


def draw_project(rng: random.Random, world: World, with_code: bool, with_reports: bool,
                 serial: int = 0, department: str | None = None, spell: object = None,
                 ) -> tuple[TrueProject, Story | None]:
    """A project of a district office, or of `department` (an agency code of world.departments), with its story
    (None without reports); spell(name): the OCR spelling of a school name its narrative lists."""
    from synth.stories import tell  # the stories are told of the world's projects: imported when one is drawn

    fy = rng.choice(YEARS)
    if department is None:
        district: str | None = rng.choice(sorted(world.districts))
        nets = world.networks_of(district)
        networks = tuple(sorted(rng.sample(nets, rng.randint(1, len(nets)))))
        agency, agency_name, unit = f"{district}0000", f"สำนักงานเขต{world.districts[district]}", "ฝ่ายการศึกษา"
        officers, coordinators = world.officers[district], world.coordinators[district]
    else:
        dept = world.departments[department]
        district, networks, agency, agency_name = None, (), department, dept.name
        unit = rng.choice(dept.units)
        officers, coordinators = list(dept.officers), world.coordinators[department]
    leads = tuple(world.networks[n].schools[0] for n in networks)
    budget = Decimal(90000 * max(1, len(networks))) if rng.random() < 0.7 else Decimal(rng.randint(10, 400) * 1000)
    code = None
    if with_code:
        while code is None or code in world.used_codes:
            code = f"{agency}-{rng.randint(1000, 9999)}"
        world.used_codes.add(code)
    start = date(fy - 544, 10, 1)
    end = date(fy - 543, 9, rng.choice([29, 30]))
    story = tell(rng, start, budget, networks, leads, spell or (lambda name: name), department is None) \
        if with_reports else None
    name = rng.choice(PROJECT_NAMES if department is None else DEPARTMENT_PROJECTS)
    if not with_code:
        name = f"{name} ปีงบประมาณ {fy} ชุดที่ {serial + 1}"
    return TrueProject(code, fy, name, district, budget, start, end, rng.choice(officers), rng.choice(coordinators),
                       networks, leads, story.reports if story else (), agency, agency_name, unit,
                       story.events if story else (), story.allotments if story else ()), story
