"""The true world behind a synthetic corpus: real districts and network numbers, invented people,
schools and projects. Everything is drawn from one seeded random generator, so a seed is a corpus."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from rapidfuzz import fuzz

from common.records import Reference

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
PROJECT_NAMES = ["โครงการพัฒนาคุณภาพเครือข่ายโรงเรียน", "โครงการพัฒนาคุณภาพการดำเนินงานศูนย์วิชาการเขต",
                 "โครงการส่งเสริมการอ่านของนักเรียน", "โครงการพัฒนาครูด้านการจัดการเรียนรู้", "โครงการนิทรรศการวิชาการเครือข่าย"]
NOTES = ["อยู่ระหว่างขั้นตอนขออนุมัติโครงการ", "จัดสรรงบประมาณให้เครือข่ายโรงเรียนแล้ว",
         "เครือข่ายดำเนินการประชุมวางแผนกำหนดจัดประกวดคัดเลือกครูดีเด่น", "ดำเนินการจัดนิทรรศการแสดงผลงานเรียบร้อยแล้ว",
         "อยู่ระหว่างการดำเนินการจัดกิจกรรม", "ขออนุมัติเบิกจ่ายเงินแล้ว", "ชะลอการจัดกิจกรรมเนื่องจากสถานการณ์โรคระบาด",
         "เตรียมแผนงานและดำเนินการระหว่างปีงบประมาณ", "รายงานผลการดำเนินโครงการให้ผู้บริหารเขตทราบ"]
KNOWN_NETWORKS = {53: "5021", 54: "5021", 55: "5021", 71: "5023", 72: "5023", 75: "5024"}
YEARS = tuple(range(2560, 2570))


@dataclass(frozen=True)
class TruePerson:
    person_id: str
    family: str
    title: str
    first: str
    last: str
    phone: str | None
    district_id: str | None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class TrueSchool:
    school_id: str
    name: str  # without โรงเรียน
    network_no: int
    district_id: str


@dataclass(frozen=True)
class TrueReport:
    report_no: int
    date: date | None
    progress: Decimal
    cumulative: Decimal
    plan: str
    target: str
    note: str


@dataclass(frozen=True)
class TrueProject:
    code: str | None
    fiscal_year: int
    name: str
    district_id: str
    budget: Decimal
    start: date
    end: date
    officer: TruePerson
    coordinator: TruePerson
    networks: tuple[int, ...]
    schools: tuple[TrueSchool, ...]
    reports: tuple[TrueReport, ...]


@dataclass
class World:
    districts: dict[str, str]  # id -> Thai name
    network_district: dict[int, str]
    schools: list[TrueSchool]
    officers: dict[str, list[TruePerson]]  # district -> officers
    coordinators: list[TruePerson]
    used_codes: set[str] = field(default_factory=set)


def build_world(rng: random.Random, reference: Reference) -> World:
    districts = {d.district_id: d.name_th for d in reference.districts}
    ids = sorted(districts)
    network_district = dict(KNOWN_NETWORKS)
    free = [i for i in ids if i not in KNOWN_NETWORKS.values()]
    rng.shuffle(free)
    cycle = free + free
    for no in range(1, 81):
        if no not in network_district:
            network_district[no] = cycle.pop(0)
    schools = _schools(rng, reference, network_district)
    people_seen: set[str] = set()

    def person(family: str, pid: str, district: str | None, phone: str | None) -> TruePerson:
        while True:
            title = rng.choice(["นาย", "นาง", "นางสาว"])
            first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
            if f"{first} {last}" not in people_seen:
                people_seen.add(f"{first} {last}")
                return TruePerson(pid, family, title, first, last, phone, district)

    coordinators = [person("coordinator", f"C{i:03d}", None, f"15{i:02d}") for i in range(40)]
    officers: dict[str, list[TruePerson]] = {}
    n = 0
    for district in ids:
        officers[district] = []
        for _ in range(rng.randint(2, 3)):
            phone = rng.choice([f"{rng.randint(6000, 7999)}", f"02{rng.randint(1000000, 9999999)}", None])
            officers[district].append(person("officer", f"O{n:04d}", district, phone))
            n += 1
    # namesakes: different people whose names differ by one character, with their own phones
    for i in range(0, len(coordinators) - 1, 8):
        twin = coordinators[i]
        coordinators.append(TruePerson(f"C{len(coordinators):03d}", "coordinator", twin.title, twin.first,
                                       twin.last[:-1] + ("ย" if twin.last[-1] != "ย" else "น"),
                                       f"16{i:02d}", None))
    return World(districts, network_district, schools, officers, coordinators)


def _schools(rng: random.Random, reference: Reference, network_district: dict[int, str]) -> list[TrueSchool]:
    registry_by_district: dict[str, list[str]] = {}
    for s in reference.schools:
        registry_by_district.setdefault(s.district_id, []).append(s.name_th)
    schools: list[TrueSchool] = []
    used_names: set[str] = set()
    for no in range(1, 81):
        for _ in range(rng.randint(3, 7)):
            while True:
                name = rng.choice(SCHOOL_HEADS) + rng.choice(SCHOOL_WORDS) + rng.choice(["", "", "วิทยา", "ศึกษา"])
                near = max((fuzz.ratio(name, r) for r in registry_by_district.get(network_district[no], [])),
                           default=0.0)
                if name not in used_names and near < 70:
                    break
            used_names.add(name)
            schools.append(TrueSchool(f"S{len(schools):04d}", name, no, network_district[no]))
    return schools


def draw_project(rng: random.Random, world: World, with_code: bool, with_reports: bool,
                 serial: int = 0) -> TrueProject:
    district = rng.choice(sorted(world.districts))
    fy = rng.choice(YEARS)
    nets = sorted(n for n, d in world.network_district.items() if d == district)
    networks = tuple(sorted(rng.sample(nets, rng.randint(1, len(nets))))) if nets else ()
    schools = tuple(s for s in world.schools if s.network_no in networks and rng.random() < 0.5)[:4]
    budget = Decimal(90000 * max(1, len(networks))) if rng.random() < 0.7 else Decimal(rng.randint(10, 400) * 1000)
    code = None
    if with_code:
        while code is None or code in world.used_codes:
            code = f"{district}0000-{rng.randint(1000, 9999)}"
        world.used_codes.add(code)
    start = date(fy - 544, 10, 1)
    end = date(fy - 543, 9, rng.choice([29, 30]))
    reports = _reports(rng, start, budget) if with_reports else ()
    name = rng.choice(PROJECT_NAMES)
    if not with_code:
        name = f"{name} ปีงบประมาณ {fy} ชุดที่ {serial + 1}"
    return TrueProject(code, fy, name, district, budget, start, end, rng.choice(world.officers[district]),
                       rng.choice(world.coordinators), networks, schools, reports)


def _reports(rng: random.Random, start: date, budget: Decimal) -> tuple[TrueReport, ...]:
    count = rng.randint(3, 12)
    progress = Decimal(0)
    cumulative = Decimal(0)
    out = []
    pay_at = sorted(rng.sample(range(1, count + 1), k=min(count, rng.randint(1, 3))))
    for no in range(1, count + 1):
        progress = min(Decimal(100), progress + Decimal(rng.choice([5, 5, 10, 10, 15, 20, 25])))
        if no == count:
            progress = Decimal(100) if rng.random() < 0.7 else progress
        if no in pay_at:
            cumulative = min(budget, cumulative + (budget / len(pay_at)).quantize(Decimal(1)))
        day = start + timedelta(days=30 * (no - 1) + rng.randint(18, 29))
        plan = rng.choices(["on_plan", "on_plan_monitor", "off_plan"], [0.8, 0.12, 0.08])[0]
        target = "off_target" if plan == "off_plan" and rng.random() < 0.8 else "on_target"
        out.append(TrueReport(no, None if rng.random() < 0.03 else day, progress.quantize(Decimal("0.01")),
                              cumulative, plan, target, rng.choice(NOTES)))
    return tuple(out)
