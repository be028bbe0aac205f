#!/usr/bin/env python3
"""Deterministic labelled corpus for the PII benchmark (standard library only).

Every sample holds exactly one labelled value, either personal data (`pii`
true: it must be found) or a decoy (`pii` false: a look-alike that must
survive). A sample is one JSON line:

    {"doc": <JSON document given to Airlock>,
     "text": <flat text given to Presidio, holding the same value once>,
     "labels": [{"kind": KIND, "value": "...", "pii": true|false,
                 "class": "<format or decoy class>"}]}

Kinds are Airlock's: EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP, RU_INN,
RU_SNILS, SECRET, PERSON, ADDRESS; decoys that imitate no kind in
particular (dates, timestamps, UUIDs, prices) have kind OTHER.

Values are valid where it matters: Luhn-checked cards, mod-97 IBANs with
each country's length, SSNs in issued ranges, checksummed INN and SNILS,
phones in real numbering ranges. Decoys are checked to be invalid by the
same rules (see `self_check`).

    python3 corpus.py --n 500 --seed 1 > corpus.jsonl
    python3 corpus.py --big-json big.json --big-mb 32
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import random
import string
import sys
import uuid

KINDS = [
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
    "IP",
    "RU_INN",
    "RU_SNILS",
    "SECRET",
    "PERSON",
    "ADDRESS",
]
OTHER = "OTHER"

# ---------------------------------------------------------------------------
# Checksums (independent re-implementations of the published algorithms).


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(payload: str) -> str:
    """`payload` plus the Luhn check digit."""
    for check in "0123456789":
        if luhn_ok(payload + check):
            return payload + check
    raise AssertionError("unreachable")


IBAN_LENGTHS = {
    "DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "CH": 21, "AT": 20,
    "BE": 16, "PL": 28, "NO": 15, "SE": 24, "DK": 18, "FI": 18, "PT": 25, "IE": 22,
    "LU": 20,
}


def iban_mod97(iban: str) -> int:
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return int(numeric) % 97


def iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    return (
        IBAN_LENGTHS.get(compact[:2]) == len(compact)
        and compact[2:4].isdigit()
        and compact.isalnum()
        and compact == compact.upper()
        and iban_mod97(compact) == 1
    )


def iban_with_check(country: str, bban: str) -> str:
    check = 98 - iban_mod97(country + "00" + bban)
    return f"{country}{check:02d}{bban}"


def inn_digit(digits: str, weights: list[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


INN10_W = [2, 4, 10, 3, 5, 9, 4, 6, 8]
INN12_W1 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
INN12_W2 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]


def inn_ok(s: str) -> bool:
    if not s.isdigit() or s[:2] == "00":
        return False
    if len(s) == 10:
        return inn_digit(s[:9], INN10_W) == int(s[9])
    if len(s) == 12:
        return inn_digit(s[:10], INN12_W1) == int(s[10]) and inn_digit(s[:11], INN12_W2) == int(s[11])
    return False


def snils_check(nine: str) -> int:
    total = sum(int(d) * w for d, w in zip(nine, range(9, 0, -1)))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    r = total % 101
    return 0 if r == 100 else r


def snils_ok(s: str) -> bool:
    digits = "".join(c for c in s if c.isdigit())
    if len(digits) != 11 or int(digits[:9]) <= 1001998:
        return False
    return snils_check(digits[:9]) == int(digits[9:])


def ssn_ok(s: str) -> bool:
    digits = "".join(c for c in s if c.isdigit())
    if len(digits) != 9:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def ipv4_ok(s: str) -> bool:
    try:
        ipaddress.IPv4Address(s)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# Building blocks.

FIRST_EN = ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda", "David",
            "Elizabeth", "Richard", "Barbara", "Joseph", "Susan", "Thomas", "Jessica", "Charles", "Sarah",
            "Christopher", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Margaret", "Emily",
            "Olivia", "Liam", "Noah", "Sophia", "Isabella", "Ethan", "Ava", "Lucas", "Chloe"]
LAST_EN = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore",
           "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
           "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
           "O'Connor", "McAllister", "Fitzgerald"]
FIRST_RU = ["Иван", "Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Никита", "Анна", "Мария",
            "Елена", "Ольга", "Татьяна", "Наталья", "Екатерина", "Юлия", "Владимир", "Павел", "Ксения"]
LAST_RU_M = ["Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов",
             "Новиков", "Фёдоров", "Морозов", "Волков", "Лебедев", "Козлов"]
PATRONYMIC_M = ["Иванович", "Сергеевич", "Алексеевич", "Дмитриевич", "Андреевич", "Петрович"]
PATRONYMIC_F = ["Ивановна", "Сергеевна", "Алексеевна", "Дмитриевна", "Андреевна", "Петровна"]
FEMALE_RU = {"Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Екатерина", "Юлия", "Ксения"}
FIRST_TRANSLIT = ["Ivan", "Alexey", "Dmitry", "Sergey", "Andrey", "Mikhail", "Anna", "Maria", "Elena",
                  "Olga", "Tatiana", "Natalia", "Ekaterina", "Yulia"]
LAST_TRANSLIT = ["Petrov", "Ivanov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev", "Sokolov", "Volkov",
                 "Lebedev", "Kozlov", "Novikov", "Morozov"]
FIRST_DE = ["Lukas", "Leon", "Jonas", "Felix", "Maximilian", "Lena", "Hannah", "Lea", "Anna", "Jürgen",
            "Sabine", "Katrin", "Uwe", "Björn"]
LAST_DE = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder"]
FIRST_ES = ["José", "María", "Carmen", "Antonio", "Lucía", "Javier", "Sofía", "Alejandro", "Valentina"]
LAST_ES = ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
           "Gómez", "Díaz"]
FIRST_OTHER = ["Wei", "Li", "Hiroshi", "Yuki", "Priya", "Arjun", "Mohammed", "Fatima", "Oluwaseun",
               "Chinedu", "Min-jun", "Seo-yeon", "Thanh", "Aisha"]
LAST_OTHER = ["Zhang", "Wang", "Tanaka", "Sato", "Sharma", "Patel", "Al-Farsi", "Haddad", "Okafor",
              "Adeyemi", "Kim", "Park", "Nguyen", "Khan"]

US_STREETS = ["Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine",
              "Sunset", "Lincoln", "Jackson", "Highland", "Madison"]
US_SUFFIX = ["St", "Street", "Ave", "Avenue", "Blvd", "Rd", "Lane", "Dr", "Way", "Ct"]
US_CITIES = [("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Denver", "CO", "802"),
             ("Portland", "OR", "972"), ("Seattle", "WA", "981"), ("Boston", "MA", "021"),
             ("Columbus", "OH", "432"), ("Raleigh", "NC", "276"), ("Madison", "WI", "537"),
             ("San Diego", "CA", "921"), ("Brooklyn", "NY", "112")]
UK_STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
              "Park Avenue", "Mill Lane", "Kings Road", "Baker Street"]
UK_CITIES = [("London", "SW1A"), ("Manchester", "M1"), ("Leeds", "LS1"), ("Bristol", "BS1"),
             ("Edinburgh", "EH1"), ("Cardiff", "CF10"), ("London", "NW1"), ("Oxford", "OX1")]
DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Goethestraße",
              "Lindenallee", "Kirchweg", "Am Markt", "Berliner Straße", "Friedrichstraße"]
DE_CITIES = [("Berlin", "10"), ("München", "80"), ("Hamburg", "20"), ("Köln", "50"), ("Frankfurt am Main", "60"),
             ("Stuttgart", "70"), ("Leipzig", "04"), ("Dresden", "01")]
RU_STREETS = ["Тверская", "Ленина", "Садовая", "Мира", "Пушкина", "Гагарина", "Советская", "Лесная",
              "Новый Арбат", "Профсоюзная"]
RU_CITIES = [("Москва", "1"), ("Санкт-Петербург", "19"), ("Казань", "42"), ("Новосибирск", "63"),
             ("Екатеринбург", "62"), ("Нижний Новгород", "60")]

US_AREA_CODES = ["201", "202", "206", "212", "213", "214", "305", "312", "313", "404", "415", "503",
                 "512", "602", "617", "646", "702", "713", "718", "773", "805", "818", "917", "925"]
RU_MOBILE = ["903", "905", "909", "910", "912", "915", "916", "917", "919", "921", "925", "926", "929",
             "950", "951", "960", "963", "977", "985", "999"]
RU_CITY = [("495", 7), ("499", 7), ("812", 7), ("343", 7), ("383", 7), ("843", 7)]
UK_GEO = [("20", 8), ("121", 7), ("161", 7)]
UK_MOBILE = ["71", "73", "74", "75", "77", "78", "79"]
DE_GEO = [("30", 8), ("89", 8), ("40", 8), ("221", 7), ("69", 8), ("711", 7), ("341", 7)]
DE_MOBILE = ["151", "152", "157", "160", "162", "170", "171", "172", "173", "175", "176", "177", "178", "179"]

EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "mail.ru", "yandex.ru", "gmx.de", "web.de",
                 "example.com", "acme-corp.com", "company.co.uk", "uni-heidelberg.de", "startup.io",
                 "corp.mail.example.org", "bank.ch", "hotmail.fr", "protonmail.com", "icloud.com"]

# Internationalised e-mail addresses (RFC 6531): local parts and domains in
# other scripts, and domains as punycode (xn--) labels.
IDN_LOCAL_CYRILLIC = ["иван", "мария", "петров", "и.петров", "анна.смирнова", "сергей_кузнецов", "ольга-волкова",
                      "Дмитрий.Попов", "заказы", "почта", "info", "ivanov"]
IDN_DOMAINS_CYRILLIC = ["пример.рф", "почта.рф", "компания.рус", "магазин.москва", "университет.рф", "завод.рф",
                        "банк.рф", "пример.онлайн", "mail.пример.рф"]
IDN_LOCAL_LATIN = ["josé", "müller", "françois", "zoë", "søren", "łukasz", "çelik", "jürgen.weiß", "ana.muñoz"]
IDN_DOMAINS_LATIN = ["bücher.de", "exämple.org", "correo.es", "société.fr", "øresund.dk", "example.com", "gmx.de"]
IDN_OTHER = [
    ("用户", "例子.广告"), ("张伟", "公司.中国"), ("δοκιμή", "παράδειγμα.δοκιμή"), ("उपयोगकर्ता", "उदाहरण.भारत"),
    ("info", "例子.中国"), ("θέμα", "δοκιμή.gr"), ("テスト", "例え.テスト"), ("support", "उदाहरण.भारत"),
]

LOWER_ALNUM = string.ascii_lowercase + string.digits
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"

WRAP_TEXT_KEYS = ["note", "text", "message", "comment", "description", "body", "summary"]


class Corpus:
    """Generator state: one seeded RNG."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    # -- small helpers ------------------------------------------------------
    def digits(self, n: int, first_nonzero: bool = False) -> str:
        r = self.r
        out = "".join(r.choice(string.digits) for _ in range(n))
        if first_nonzero and out[0] == "0":
            out = r.choice("123456789") + out[1:]
        return out

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def pick_weighted(self, options):
        """options: list of (weight, value)."""
        total = sum(w for w, _ in options)
        x = self.r.uniform(0, total)
        for w, v in options:
            x -= w
            if x <= 0:
                return v
        return options[-1][1]

    @staticmethod
    def group(s: str, sizes, sep: str) -> str:
        out, i = [], 0
        for size in sizes:
            if i >= len(s):
                break
            out.append(s[i : i + size])
            i += size
        if i < len(s):
            out.append(s[i:])
        return sep.join(out)

    # -- person names and addresses -----------------------------------------
    def person(self) -> tuple[str, str]:
        r = self.r
        style = r.choice(["en", "en", "en_mid", "ru", "ru_fio", "ru_latin", "de", "es", "other"])
        if style == "en":
            return f"{r.choice(FIRST_EN)} {r.choice(LAST_EN)}", "person_en"
        if style == "en_mid":
            return f"{r.choice(FIRST_EN)} {r.choice(string.ascii_uppercase)}. {r.choice(LAST_EN)}", "person_en"
        if style in ("ru", "ru_fio"):
            first = r.choice(FIRST_RU)
            female = first in FEMALE_RU
            last = r.choice(LAST_RU_M) + ("а" if female else "")
            if style == "ru":
                return f"{first} {last}", "person_ru"
            pat = r.choice(PATRONYMIC_F if female else PATRONYMIC_M)
            if r.random() < 0.3:
                return f"{last} {first[0]}. {pat[0]}.", "person_ru"
            return f"{last} {first} {pat}", "person_ru"
        if style == "ru_latin":
            return f"{r.choice(FIRST_TRANSLIT)} {r.choice(LAST_TRANSLIT)}", "person_ru"
        if style == "de":
            return f"{r.choice(FIRST_DE)} {r.choice(LAST_DE)}", "person_de"
        if style == "es":
            return f"{r.choice(FIRST_ES)} {r.choice(LAST_ES)} {r.choice(LAST_ES)}", "person_es"
        return f"{r.choice(FIRST_OTHER)} {r.choice(LAST_OTHER)}", "person_other"

    def address(self) -> tuple[str, str]:
        r = self.r
        style = r.choice(["us", "uk", "de", "ru"])
        if style == "us":
            city, st, zip3 = r.choice(US_CITIES)
            apt = f", Apt {r.randint(1, 40)}" if r.random() < 0.3 else ""
            return (f"{r.randint(1, 9899)} {r.choice(US_STREETS)} {r.choice(US_SUFFIX)}{apt}, "
                    f"{city}, {st} {zip3}{self.digits(2)}"), "address_us"
        if style == "uk":
            city, pc = r.choice(UK_CITIES)
            return (f"{r.randint(1, 250)} {r.choice(UK_STREETS)}, {city} "
                    f"{pc} {r.randint(1, 9)}{self.chars('ABDEFGHJLNPQRSTUWXYZ', 2)}"), "address_uk"
        if style == "de":
            city, plz = r.choice(DE_CITIES)
            return f"{r.choice(DE_STREETS)} {r.randint(1, 180)}, {plz}{self.digits(3)} {city}", "address_de"
        city, idx = r.choice(RU_CITIES)
        flat = f", кв. {r.randint(1, 300)}" if r.random() < 0.7 else ""
        return (f"{idx}{self.digits(6 - len(idx))}, г. {city}, ул. {r.choice(RU_STREETS)}, "
                f"д. {r.randint(1, 120)}{flat}"), "address_ru"

    # -- values -------------------------------------------------------------
    def email(self) -> tuple[str, str]:
        r = self.r
        first = r.choice(FIRST_EN + FIRST_TRANSLIT).lower()
        last = r.choice(LAST_EN[:36] + LAST_TRANSLIT).lower()
        local = r.choice([
            f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{r.randint(1, 99)}",
            f"{first}", f"{last}.{first[0]}", f"{first}.{last}+{r.choice(['crm', 'news', 'work'])}",
            f"{first}{r.randint(1970, 2005)}", f"{first}-{last}",
        ])
        if r.random() < 0.1:
            local = local.capitalize()
        return f"{local}@{r.choice(EMAIL_DOMAINS)}", "email"

    def email_idn(self) -> tuple[str, str]:
        """An internationalised address: Cyrillic, accented Latin or other
        scripts, or an ASCII local part at a punycode domain."""
        r = self.r
        style = r.choice(["cyrillic", "cyrillic", "latin", "other", "punycode", "punycode"])
        if style == "cyrillic":
            local = r.choice(IDN_LOCAL_CYRILLIC)
            if r.random() < 0.3:
                local += str(r.randint(1, 99))
            return f"{local}@{r.choice(IDN_DOMAINS_CYRILLIC)}", "email_idn_cyrillic"
        if style == "latin":
            return f"{r.choice(IDN_LOCAL_LATIN)}@{r.choice(IDN_DOMAINS_LATIN)}", "email_idn_latin"
        if style == "other":
            local, domain = r.choice(IDN_OTHER)
            return f"{local}@{domain}", "email_idn_other"
        domain = r.choice(IDN_DOMAINS_CYRILLIC + IDN_DOMAINS_LATIN[:5] + [d for _, d in IDN_OTHER[:4]])
        ascii_domain = domain.encode("idna").decode("ascii")
        first = r.choice(FIRST_TRANSLIT + FIRST_EN).lower()
        return f"{first}{r.choice(['', '.', '_'])}{r.choice(LAST_TRANSLIT).lower()}@{ascii_domain}", "email_idn_punycode"

    def phone(self) -> tuple[str, str]:
        r = self.r
        region = self.pick_weighted([(3, "us"), (3, "ru"), (2, "uk"), (2, "de"), (2, "intl")])
        if region == "us":
            area = r.choice(US_AREA_CODES)
            exch = r.choice("23456789") + self.digits(2)
            while exch[1:] == "11" or exch == "555":
                exch = r.choice("23456789") + self.digits(2)
            line = self.digits(4)
            fmt = r.choice([
                "({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "{a} {e} {l}",
                "+1 {a} {e} {l}", "+1 ({a}) {e}-{l}", "+1-{a}-{e}-{l}", "+1{a}{e}{l}",
            ])
            return fmt.format(a=area, e=exch, l=line), "us_intl" if fmt.startswith("+") else "us_national"
        if region == "ru":
            if r.random() < 0.8:
                code = r.choice(RU_MOBILE)
                sub = self.digits(7)
                a, b, c = sub[:3], sub[3:5], sub[5:]
                fmt = r.choice([
                    "+7 ({k}) {a}-{b}-{c}", "+7 {k} {a}-{b}-{c}", "+7{k}{a}{b}{c}", "+7 {k} {a} {b} {c}",
                    "8 ({k}) {a}-{b}-{c}", "8 {k} {a} {b} {c}", "8{k}{a}{b}{c}", "8-{k}-{a}-{b}-{c}",
                ])
                value = fmt.format(k=code, a=a, b=b, c=c)
                return value, "ru_mobile_intl" if value.startswith("+") else "ru_mobile_8"
            code, n = r.choice(RU_CITY)
            sub = self.digits(n, first_nonzero=True)
            a, b, c = sub[:3], sub[3:5], sub[5:]
            fmt = r.choice(["+7 ({k}) {a}-{b}-{c}", "+7 {k} {a}-{b}-{c}", "8 ({k}) {a}-{b}-{c}"])
            value = fmt.format(k=code, a=a, b=b, c=c)
            return value, "ru_landline_intl" if value.startswith("+") else "ru_landline_8"
        if region == "uk":
            if r.random() < 0.5:
                code, n = r.choice(UK_GEO)
                sub = r.choice("378" if code == "20" else "234567") + self.digits(n - 1)
                if code == "20":
                    national, intl = f"020 {sub[:4]} {sub[4:]}", f"20 {sub[:4]} {sub[4:]}"
                else:
                    national, intl = f"0{code} {sub[:3]} {sub[3:]}", f"{code} {sub[:3]} {sub[3:]}"
            else:
                sub = r.choice(UK_MOBILE) + self.digits(8)
                while sub.startswith("7700"):  # 07700 is mostly unallocated
                    sub = r.choice(UK_MOBILE) + self.digits(8)
                national, intl = f"0{sub[:4]} {sub[4:]}", f"{sub[:4]} {sub[4:]}"
            choice = r.choice(["national", "national", "intl", "intl0"])
            if choice == "national":
                return national, "uk_national"
            if choice == "intl":
                return f"+44 {intl}", "uk_intl"
            first, rest = intl.split(" ", 1)
            return f"+44 (0){first} {rest}", "uk_intl"
        if region == "de":
            if r.random() < 0.5:
                code, n = r.choice(DE_GEO)
                sub = self.digits(n, first_nonzero=True)
            else:
                code = r.choice(DE_MOBILE)
                # 015x numbers have 8-digit subscriber numbers, 016x/017x 7 or 8
                sub = self.digits(8 if code.startswith("15") else r.choice([7, 8]), first_nonzero=True)
            fmt = r.choice(["0{k} {s}", "0{k}/{s}", "(0{k}) {s}", "0{k}-{s}", "+49 {k} {s}", "+49 (0){k} {s}"])
            value = fmt.format(k=code, s=sub)
            return value, "de_intl" if value.startswith("+") else "de_national"
        # other countries, in their usual international grouping
        c = self.r.choice(["fr", "fr", "it", "es", "nl", "nl", "br", "in", "jp", "cn", "pl", "ch"])
        d = self.digits
        if c == "fr":
            lead = r.choice(["1 4", "1 5", "6 1", "6 2", "6 7", "7 8"])
            return f"+33 {lead}{d(1)} {d(2)} {d(2)} {d(2)}", "intl_fr"
        if c == "it":
            return f"+39 {r.choice(['06', '02', '011', '055'])} {d(4, True)} {d(4)}", "intl_it"
        if c == "es":
            if r.random() < 0.6:
                return f"+34 6{d(2)} {d(3)} {d(3)}", "intl_es"
            return f"+34 91{d(1, True)} {d(3)} {d(3)}", "intl_es"
        if c == "nl":
            if r.random() < 0.5:
                return f"+31 6 {r.choice('12345')}{d(7)}", "intl_nl_mobile"
            return f"+31 20 {r.choice('3456789')}{d(2)} {d(4)}", "intl_nl"
        if c == "br":
            return f"+55 {r.choice(['11', '21', '31', '41'])} 9{d(4)}-{d(4)}", "intl_br"
        if c == "in":
            return f"+91 {r.choice('6789')}{d(4)} {d(5)}", "intl_in"
        if c == "jp":
            return f"+81 3-{d(4, True)}-{d(4)}", "intl_jp"
        if c == "cn":
            return f"+86 {r.choice(['130', '131', '135', '138', '139', '150', '151', '158', '186', '188'])} {d(4)} {d(4)}", "intl_cn"
        if c == "pl":
            return f"+48 {r.choice(['50', '51', '53', '57', '60', '66', '69', '72', '78', '79', '88'])}{d(1)} {d(3)} {d(3)}", "intl_pl"
        return f"+41 {r.choice(['44', '43', '31', '79', '78'])} {r.choice('2345789')}{d(2)} {d(2)} {d(2)}", "intl_ch"

    CARD_BRANDS = [
        # weight, name, prefixes, lengths, groupings by length
        (5, "visa", ["4"], [16]),
        (1, "visa13", ["4"], [13]),
        (1, "visa19", ["4"], [19]),
        (4, "mastercard", ["51", "52", "53", "54", "55"], [16]),
        (2, "mastercard2", [str(p) for p in range(2221, 2721)], [16]),
        (2, "amex", ["34", "37"], [15]),
        (1, "discover", ["6011", "65", "644", "645", "649"], [16]),
        (1, "jcb", [str(p) for p in range(3528, 3590)], [16]),
        (1, "diners", ["36", "38", "300", "305"], [14]),
        (1, "maestro", ["6759", "5018", "5020", "6304"], [16, 19]),
        (1, "unionpay", ["62"], [16, 19]),
        (2, "mir", ["2200", "2201", "2202", "2204"], [16]),
    ]

    def card(self) -> tuple[str, str]:
        r = self.r
        _, brand, prefixes, lengths = self.pick_weighted([(w, (w, b, p, l)) for w, b, p, l in self.CARD_BRANDS])
        length = r.choice(lengths)
        prefix = r.choice(prefixes)
        while True:
            number = luhn_complete(prefix + self.digits(length - len(prefix) - 1))
            if len(set(number)) > 1:
                break
        style = r.choice(["plain", "space", "space", "dash"])
        if style == "plain":
            return number, f"{brand}_plain"
        sep = " " if style == "space" else "-"
        if length == 15:
            sizes = [4, 6, 5]
        elif length == 14:
            sizes = [4, 6, 4]
        elif length == 13:
            sizes = [4, 3, 3, 3]
        else:
            sizes = [4, 4, 4, 4, 3]
        return self.group(number, sizes, sep), f"{brand}_grouped"

    def bban(self, country: str) -> str:
        d, letters = self.digits, string.ascii_uppercase

        def alnum(n):  # mostly digits, as real account numbers are
            return "".join(self.r.choice(letters) if self.r.random() < 0.1 else self.r.choice(string.digits)
                           for _ in range(n))

        return {
            "DE": lambda: d(18),
            "GB": lambda: self.r.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL", "WEST"]) + d(14),
            "FR": lambda: d(10) + alnum(11) + d(2),
            "NL": lambda: self.r.choice(["ABNA", "INGB", "RABO", "SNSB", "TRIO"]) + d(10),
            "ES": lambda: d(20),
            "IT": lambda: self.r.choice(letters) + d(10) + alnum(12),
            "CH": lambda: d(5) + alnum(12),
            "AT": lambda: d(16),
            "BE": lambda: d(12),
            "PL": lambda: d(24),
            "NO": lambda: d(11),
            "SE": lambda: d(20),
            "DK": lambda: d(14),
            "FI": lambda: d(14),
            "PT": lambda: d(21),
            "IE": lambda: self.r.choice(["AIBK", "BOFI", "IPBS"]) + d(14),
            "LU": lambda: d(3) + alnum(13),
        }[country]()

    def iban(self) -> tuple[str, str]:
        country = self.r.choice(list(IBAN_LENGTHS))
        value = iban_with_check(country, self.bban(country))
        assert iban_ok(value) and len(value) == IBAN_LENGTHS[country], value
        if self.r.random() < 0.5:
            return self.group(value, [4] * 8, " "), "iban_spaced"
        return value, "iban_compact"

    def ssn(self) -> tuple[str, str]:
        r = self.r
        while True:
            area = r.randint(1, 899)
            if area != 666:
                break
        value = f"{area:03d}{r.randint(1, 99):02d}{r.randint(1, 9999):04d}"
        style = self.pick_weighted([(6, "dash"), (2, "space"), (2, "plain")])
        if style == "dash":
            return f"{value[:3]}-{value[3:5]}-{value[5:]}", "ssn_dashed"
        if style == "space":
            return f"{value[:3]} {value[3:5]} {value[5:]}", "ssn_spaced"
        return value, "ssn_plain"

    def ip(self) -> tuple[str, str]:
        r = self.r
        style = self.pick_weighted([(6, "v4"), (2, "v6c"), (1, "v6full"), (1, "v6mapped")])
        if style == "v4":
            kind = r.choice(["private10", "private192", "private172", "public", "public"])
            if kind == "private10":
                addr = f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
            elif kind == "private192":
                addr = f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"
            elif kind == "private172":
                addr = f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
            else:
                addr = f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
            assert ipv4_ok(addr)
            return addr, "ipv4"
        if style == "v6mapped":
            return f"::ffff:{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}", "ipv6_mapped"
        prefix = r.choice([0x2001, 0x2a00, 0x2a02, 0x2600, 0x2c0f, 0xfe80, 0xfd12])
        groups = [prefix] + [r.randint(0, 0xFFFF) for _ in range(7)]
        if prefix == 0xFE80:
            groups[1:4] = [0, 0, 0]
        elif r.random() < 0.6:  # a run of zero groups, as most addresses have
            start = r.randint(2, 5)
            for i in range(start, min(8, start + r.randint(2, 4))):
                groups[i] = 0
        addr = ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups))
        if style == "v6full":
            value = addr.exploded
            if r.random() < 0.3:
                value = value.upper()
            return value, "ipv6_full"
        return addr.compressed, "ipv6_compressed"

    def inn(self) -> tuple[str, str]:
        r = self.r
        region = r.choice(["77", "78", "50", "66", "16", "54", "23", "52", "63", "02", "24", "74"])
        if r.random() < 0.5:
            body = region + self.digits(7)
            value = body + str(inn_digit(body, INN10_W))
            cls = "inn10"
        else:
            body = region + self.digits(8)
            body += str(inn_digit(body, INN12_W1))
            value = body + str(inn_digit(body, INN12_W2))
            cls = "inn12"
        assert inn_ok(value), value
        return value, cls

    def snils(self) -> tuple[str, str]:
        while True:
            nine = self.digits(9)
            if int(nine) > 1001998:
                break
        digits = f"{nine}{snils_check(nine):02d}"
        assert snils_ok(digits), digits
        style = self.pick_weighted([(5, "canonical"), (2, "dashes"), (2, "plain"), (1, "spaces")])
        if style == "canonical":
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}", "snils_canonical"
        if style == "dashes":
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]}-{digits[9:]}", "snils_dashes"
        if style == "spaces":
            return f"{digits[:3]} {digits[3:6]} {digits[6:9]} {digits[9:]}", "snils_spaces"
        return digits, "snils_plain"

    def jwt(self) -> str:
        def b64(obj) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        r = self.r
        header = {"alg": r.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
        payload = {"sub": str(r.randint(10**5, 10**9)), "iat": r.randint(1_600_000_000, 1_750_000_000),
                   "role": r.choice(["user", "admin", "service"])}
        sig_len = {"HS256": 43, "RS256": 342, "ES256": 86}[header["alg"]]
        return f"{b64(header)}.{b64(payload)}.{self.chars(B64URL, sig_len)}"

    def prefixed_secret(self) -> tuple[str, str]:
        r = self.r
        c = r.choice(["openai", "openai_proj", "anthropic", "stripe", "github", "github_pat", "aws",
                      "slack", "google", "gitlab", "jwt", "aws_letters", "huggingface", "npm"])
        if c == "aws_letters":
            # Access key ids are base32: some are letters only.
            return r.choice(["AKIA", "ASIA"]) + self.chars(string.ascii_uppercase, 16), "secret_aws_letters"
        if c == "huggingface":
            return "hf_" + self.chars(string.ascii_letters, 34), "secret_huggingface"
        if c == "npm":
            return "npm_" + self.chars(ALNUM, 36), "secret_npm"
        if c == "openai":
            return "sk-" + self.chars(ALNUM, 48), "secret_openai"
        if c == "openai_proj":
            return "sk-proj-" + self.chars(B64URL, r.choice([48, 64, 124])), "secret_openai"
        if c == "anthropic":
            return "sk-ant-api03-" + self.chars(B64URL, 93) + "AA", "secret_anthropic"
        if c == "stripe":
            return f"{r.choice(['sk', 'rk'])}_{r.choice(['live', 'test'])}_" + self.chars(ALNUM, r.choice([24, 99])), "secret_stripe"
        if c == "github":
            return r.choice(["ghp_", "gho_", "ghs_", "ghu_"]) + self.chars(ALNUM, 36), "secret_github"
        if c == "github_pat":
            return "github_pat_" + self.chars(ALNUM, 22) + "_" + self.chars(ALNUM, 59), "secret_github"
        if c == "aws":
            return r.choice(["AKIA", "ASIA"]) + self.chars(string.ascii_uppercase + "234567", 16), "secret_aws"
        if c == "slack":
            return (f"xox{r.choice('bp')}-{self.digits(11, True)}-{self.digits(13, True)}-"
                    + self.chars(ALNUM, 24)), "secret_slack"
        if c == "google":
            return "AIza" + self.chars(B64URL, 35), "secret_google"
        if c == "gitlab":
            return "glpat-" + self.chars(B64URL, 20), "secret_gitlab"
        return self.jwt(), "secret_jwt"

    def keyed_secret(self) -> tuple[str, str, str]:
        """(key, value, class): a credential recognisable only by its key."""
        r = self.r
        c = r.choice(["password", "api_key", "access_token", "client_secret", "bearer"])
        if c == "password":
            word = r.choice(["Summer", "Dragon", "Monkey", "Sunshine", "Qwerty", "Admin", "Welcome", "Kotik"])
            value = r.choice([
                f"{word}{r.randint(1, 2025)}{r.choice('!@#$%&*')}",
                self.chars(ALNUM + "!@#$%^&*", r.randint(10, 20)),
                f"{word.lower()}_{self.chars(LOWER_ALNUM, 6)}",
            ])
            return r.choice(["password", "db_password", "passwd"]), value, "secret_password"
        if c == "api_key":
            return r.choice(["api_key", "apiKey", "x-api-key"]), self.chars(HEX if r.random() < 0.5 else ALNUM, 32), "secret_keyed"
        if c == "access_token":
            return r.choice(["access_token", "refresh_token", "token"]), self.chars(B64URL, r.choice([32, 40, 64])), "secret_keyed"
        if c == "client_secret":
            return "client_secret", self.chars(ALNUM, 40), "secret_keyed"
        return "authorization", "Bearer " + self.chars(B64URL, 40), "secret_keyed"

    # -- decoys -------------------------------------------------------------
    def decoy_order_number(self) -> tuple[str, str]:
        while True:
            number = self.digits(16, first_nonzero=True)
            if not luhn_ok(number):
                break
        if self.r.random() < 0.6:
            return number, "order16_plain"
        return self.group(number, [4, 4, 4, 4], " "), "order16_spaced"

    def decoy_iban(self) -> tuple[str, str]:
        r = self.r
        country = r.choice(list(IBAN_LENGTHS))
        value = iban_with_check(country, self.bban(country))
        if r.random() < 0.5:  # wrong check digits
            wrong = (int(value[2:4]) + r.randint(1, 96)) % 97
            wrong = wrong if wrong >= 2 else wrong + 2
            value = value[:2] + f"{wrong:02d}" + value[4:]
        else:  # one mistyped digit
            positions = [i for i in range(4, len(value)) if value[i].isdigit()]
            i = r.choice(positions)
            value = value[:i] + r.choice([c for c in string.digits if c != value[i]]) + value[i + 1 :]
        if iban_ok(value):
            return self.decoy_iban()
        if r.random() < 0.5:
            return self.group(value, [4] * 8, " "), "iban_bad_spaced"
        return value, "iban_bad_compact"

    def decoy_ssn(self) -> tuple[str, str]:
        r = self.r
        c = r.choice(["000", "666", "9xx", "9xx", "group00", "serial0000"])
        area = {"000": 0, "666": 666}.get(c, r.choice([x for x in range(1, 900) if x != 666]))
        group, serial = r.randint(1, 99), r.randint(1, 9999)
        if c == "9xx":
            # 900-999 with a group outside the ITIN ranges (50-65, 70-88,
            # 90-92, 94-99): neither an SSN nor an ITIN.
            area, group = r.randint(900, 999), r.randint(1, 49)
        elif c == "group00":
            group = 0
        elif c == "serial0000":
            serial = 0
        value = f"{area:03d}-{group:02d}-{serial:04d}"
        assert not ssn_ok(value), value
        return value, f"ssn_bad_{c}"

    def decoy_inn(self) -> tuple[str, str]:
        n = self.r.choice([10, 12])
        while True:
            value = self.digits(n, first_nonzero=True)
            if not inn_ok(value):
                break
        return value, f"inn_bad_{n}"

    def decoy_snils(self) -> tuple[str, str]:
        while True:
            digits = self.digits(11, first_nonzero=True)
            # "89xxxxxxxxx" is the shape of a Russian mobile number: not a fair decoy
            if not snils_ok(digits) and not digits.startswith("89"):
                break
        if self.r.random() < 0.6:
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}", "snils_bad_canonical"
        return digits, "snils_bad_plain"

    def decoy_version(self) -> tuple[str, str]:
        r = self.r
        c = r.choice(["semver", "vsemver", "v4", "prerelease", "calver", "oid", "section"])
        if c == "semver":
            return f"{r.randint(0, 12)}.{r.randint(0, 40)}.{r.randint(0, 30)}", "version_semver"
        if c == "vsemver":
            return f"v{r.randint(0, 12)}.{r.randint(0, 40)}.{r.randint(0, 30)}", "version_semver"
        if c == "v4":
            return f"v{r.randint(1, 12)}.{r.randint(0, 40)}.{r.randint(0, 30)}.{r.randint(0, 999)}", "version_v4part"
        if c == "prerelease":
            return (f"{r.randint(0, 12)}.{r.randint(0, 40)}.{r.randint(0, 30)}-"
                    f"{r.choice(['beta', 'rc', 'alpha'])}.{r.randint(1, 9)}"), "version_semver"
        if c == "calver":
            return f"{r.randint(2019, 2025)}.{r.randint(1, 12):02d}.{r.randint(1, 28)}.{r.randint(1, 9)}", "version_calver"
        if c == "oid":
            return "1.3.6.1." + ".".join(str(r.randint(1, 40)) for _ in range(r.randint(3, 6))), "snmp_oid"
        return f"{r.randint(1, 12)}.{r.randint(1, 9)}.{r.randint(1, 9)}", "section_number"

    def decoy_time(self) -> tuple[str, str]:
        r = self.r
        return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}", "clock_time"

    def decoy_email_like(self) -> tuple[str, str]:
        r = self.r
        c = r.choice(["handle", "npm", "decorator", "css", "handle_cyrillic", "no_domain"])
        if c == "handle":
            return f"@{r.choice(FIRST_EN).lower()}_{r.choice(LAST_EN[:36]).lower()}", "at_handle"
        if c == "handle_cyrillic":
            return f"@{r.choice(FIRST_RU).lower()}_{r.choice(LAST_RU_M).lower()}", "at_handle_cyrillic"
        if c == "no_domain":
            # A local part and a host without a top-level domain.
            return f"{r.choice(IDN_LOCAL_CYRILLIC[:6] + ['admin', 'root'])}@{r.choice(['localhost', 'сервер', 'db01'])}", "user_at_host"
        if c == "npm":
            return f"@{r.choice(['types', 'babel', 'angular', 'vue', 'aws-sdk'])}/{r.choice(['node', 'core', 'cli', 'client-s3', 'runtime'])}", "npm_scope"
        if c == "decorator":
            return f"@{r.choice(['app.route', 'pytest.fixture', 'dataclass', 'staticmethod', 'Override'])}", "decorator"
        return f"@media (max-width: {r.choice([480, 600, 768, 1024])}px)", "css_at_rule"

    def decoy_phone_like(self) -> tuple[str, str]:
        r = self.r
        c = r.choice(["isbn13", "zip4", "order", "invoice"])
        if c == "isbn13":
            body = "978" + self.digits(9)
            total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
            check = (10 - total % 10) % 10
            full = body + str(check)
            return f"{full[:3]}-{full[3]}-{full[4:7]}-{full[7:12]}-{full[12]}", "isbn13"
        if c == "zip4":
            return f"{r.randint(10000, 99999)}-{r.randint(1, 9999):04d}", "zip_plus4"
        if c == "order":
            return f"ORD-{r.randint(2019, 2025)}-{self.digits(6)}", "order_id"
        return f"INV/{r.randint(2019, 2025)}/{self.digits(5)}", "invoice_id"

    def decoy_secret_like(self) -> tuple[str, str]:
        c = self.r.choice(["sha1", "sha256", "request_id", "prefixed_identifier"])
        if c == "prefixed_identifier":
            # Identifiers that start like a secret format but are words.
            return self.r.choice([
                "hf_hub_download", "npm_config_registry", "ASIA_PACIFIC_REGION", "sk_learn_pipeline",
                "AKIA_ROTATION_POLICY", "ghp_token_name_field", "sk-learn-is-a-python-library",
                "glpat-personal-access-token-name", "xoxb-bot-token-scope", "dop_v1_migration_plan",
            ]), "prefixed_identifier"
        if c == "sha1":
            return self.chars(HEX, 40), "git_sha"
        if c == "sha256":
            return "sha256:" + self.chars(HEX, 64), "docker_digest"
        return "req_" + self.chars(LOWER_ALNUM, 24), "request_id"

    def decoy_date(self) -> tuple[str, str]:
        r = self.r
        y, m, d = r.randint(1990, 2026), r.randint(1, 12), r.randint(1, 28)
        months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]
        return r.choice([
            f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{m:02d}/{d:02d}/{y}",
            f"{months[m - 1]} {d}, {y}", f"{d} {months[m - 1][:3]} {y}",
        ]), "date"

    def decoy_timestamp(self, plain: bool = False) -> tuple[str, str]:
        """A date and time in a common format; with `plain`, not one of the
        Unix times chosen to pass a checksum (the customer records)."""
        r = self.r
        y, m, d = r.randint(2015, 2026), r.randint(1, 12), r.randint(1, 28)
        hh, mm, ss = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
        c = r.choice(["iso", "iso_ms", "sql", "epoch_s", "epoch_ms"] if plain else
                     ["iso", "iso_ms", "sql", "epoch_s", "epoch_ms", "epoch_s_inn", "epoch_ms_luhn"])
        if c == "iso":
            return f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z", "timestamp_iso"
        if c == "iso_ms":
            return f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{r.randint(0, 999):03d}+03:00", "timestamp_iso"
        if c == "sql":
            return f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}", "timestamp_sql"
        if c == "epoch_s":
            return str(r.randint(1_450_000_000, 1_790_000_000)), "epoch_seconds"
        if c == "epoch_s_inn":
            # Ten digits starting with 1 that pass the INN check.
            while True:
                value = str(r.randint(1_450_000_000, 1_790_000_000))
                if inn_ok(value):
                    return value, "epoch_seconds_inn_valid"
        if c == "epoch_ms_luhn":
            # Thirteen digits that pass the Luhn check.
            while True:
                value = str(r.randint(1_450_000_000_000, 1_790_000_000_000))
                if luhn_ok(value):
                    return value, "epoch_millis_luhn_valid"
        return str(r.randint(1_450_000_000_000, 1_790_000_000_000)), "epoch_millis"

    def decoy_uuid(self) -> tuple[str, str]:
        value = str(uuid.UUID(int=self.r.getrandbits(128), version=4))
        return (value.upper() if self.r.random() < 0.2 else value), "uuid"

    def decoy_price(self) -> tuple[str, str]:
        r = self.r
        amount = r.randint(1, 9_999_999) / 100
        whole = int(amount)
        cents = f"{round((amount - whole) * 100):02d}"
        return r.choice([
            f"${whole:,}.{cents}", f"{whole:,}.{cents} USD", f"EUR {whole}.{cents}",
            f"{whole:,}".replace(",", " ") + f",{cents} ₽", f"{whole}.{cents}",
        ]), "price"

    # -- samples ------------------------------------------------------------
    def wrap(self, leaf: dict) -> dict:
        r = self.r
        c = r.random()
        if c < 0.5:
            return leaf
        if c < 0.75:
            return {"data": leaf}
        return {"result": {"items": [leaf], "count": 1}}

    def text_sample(self, kind: str, value: str, cls: str, pii: bool, templates: list[str]) -> dict:
        sentence = self.r.choice(templates).format(v=value)
        leaf = {self.r.choice(WRAP_TEXT_KEYS): sentence}
        return self.sample(self.wrap(leaf), sentence, kind, value, cls, pii)

    def field_sample(self, kind: str, key: str, value, cls: str, pii: bool, extra: dict | None = None) -> dict:
        leaf = dict(extra or {})
        leaf[key] = value
        shown = value if isinstance(value, str) else json.dumps(value)
        text = ", ".join(f"{k}: {v}" for k, v in leaf.items() if k != key)
        text = (text + ", " if text else "") + f"{key}: {shown}"
        return self.sample(self.wrap(leaf), text, kind, shown, cls, pii)

    @staticmethod
    def sample(doc, text: str, kind: str, value: str, cls: str, pii: bool) -> dict:
        assert text.count(value) == 1, (text, value)
        return {"doc": doc, "text": text, "labels": [{"kind": kind, "value": value, "pii": pii, "class": cls}]}

    def pii_sample(self, kind: str) -> dict:
        r = self.r
        if kind == "EMAIL":
            v, cls = self.email_idn() if r.random() < 0.3 else self.email()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["email", "contact_email", "reply_to"]), v, cls, True)
            return self.text_sample(kind, v, cls, True, [
                "Please contact {v} regarding the invoice.", "From: {v}", "Reply-To: <{v}>",
                "The customer wrote from {v} yesterday.", "cc {v}, thanks!", "Email: {v}",
                "Пишите на {v}, ответим в течение дня.", "Forwarding to {v} for approval.",
            ])
        if kind == "PHONE":
            v, cls = self.phone()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["phone", "mobile", "tel", "contact_phone"]), v, cls, True)
            return self.text_sample(kind, v, cls, True, [
                "Call me at {v} after 6pm.", "Phone: {v}", "Customer callback number is {v}.",
                "Тел.: {v}", "Please reach the driver on {v}", "Mobile {v} (WhatsApp)",
                "Контактный телефон {v}, спросить Ивана.", "Left a voicemail on {v} today.",
            ])
        if kind == "CREDIT_CARD":
            v, cls = self.card()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["card_number", "pan", "cc"]), v, cls, True)
            return self.text_sample(kind, v, cls, True, [
                "Card number {v} was declined.", "Paid with card {v}", "PAN: {v}",
                "Please charge {v} for the renewal.", "Оплата картой {v} прошла успешно.",
                "Customer read out the card as {v} on the call.",
            ])
        if kind == "IBAN":
            v, cls = self.iban()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["iban", "account", "payout_account"]), v, cls, True)
            return self.text_sample(kind, v, cls, True, [
                "Please transfer the refund to {v}.", "IBAN: {v}", "Beneficiary account {v} (SEPA)",
                "Bankverbindung: {v}", "Wire to {v}, reference the invoice.",
            ])
        if kind == "US_SSN":
            v, cls = self.ssn()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["ssn", "social_security_number", "tax_id"]), v, cls, True)
            return self.text_sample(kind, v, cls, True, [
                "SSN: {v}", "Applicant's social security number is {v}.", "Verified SSN {v} against the W-2.",
                "The form lists {v} as the employee's SSN.",
            ])
        if kind == "IP":
            v, cls = self.ip()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["ip", "client_ip", "remote_addr", "source_ip"]), v, cls, True)
            tpl = [
                "Login from {v} was blocked.", "client_ip={v} status=403", "X-Forwarded-For: {v}",
                "Connection reset by peer {v}", "Suspicious traffic from {v} on port 22.",
            ]
            if cls == "ipv4":
                tpl.append("Connecting to {v}:8443 ...")
            else:
                tpl.append("Listening on [{v}]:8443")
            return self.text_sample(kind, v, cls, True, tpl)
        if kind == "RU_INN":
            v, cls = self.inn()
            c = r.random()
            if c < 0.15 and v[0] != "0":
                return self.field_sample(kind, "inn", int(v), cls + "_json_number", True)
            if c < 0.35:
                return self.field_sample(kind, r.choice(["inn", "tax_number"]), v, cls, True)
            if c < 0.5 and cls == "inn10":
                # KPP: the tax office, a reason (digits or, since 2013, capitals), a number.
                reason = r.choice(["01", "01", "02", "43", "45", "50", "AA", "AB"])
                kpp = r.choice([v[:4], "7701", "7707", "7736"]) + reason + r.choice(["001", "001", "002"])
                return self.text_sample(kind, v, "inn10_with_kpp", True, [
                    "ИНН/КПП {v}/" + kpp, "ИНН/КПП: {v}/" + kpp + ".", "Реквизиты: ИНН/КПП {v}/" + kpp + ", р/с указан в счёте.",
                    "INN/KPP {v}/" + kpp, "Покупатель: ООО «Вектор», {v}/" + kpp,
                ])
            return self.text_sample(kind, v, cls, True, [
                "ИНН {v}", "ИНН: {v}", "Поставщик ООО «Ромашка», ИНН {v}.", "INN {v}",
                "Taxpayer number (INN) {v} confirmed.", "ИП Петров, ИНН {v}",
            ])
        if kind == "RU_SNILS":
            v, cls = self.snils()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["snils", "СНИЛС"]), v, cls, True)
            return self.text_sample(kind, v, cls, True, [
                "СНИЛС {v}", "СНИЛС: {v}", "Страховой номер {v} подтверждён.", "SNILS {v}",
                "Сотрудник предоставил СНИЛС {v} и паспорт.",
            ])
        if kind == "SECRET":
            if r.random() < 0.3:
                key, v, cls = self.keyed_secret()
                return self.field_sample(kind, key, v, cls, True)
            v, cls = self.prefixed_secret()
            return self.text_sample(kind, v, cls, True, [
                "export API_KEY={v}", "Authorization: Bearer {v}", "Use key {v} for the staging env.",
                "token = \"{v}\"", "Rotate {v} immediately, it leaked in the logs.", "{v}",
            ])
        if kind == "PERSON":
            v, cls = self.person()
            keys = ["name", "full_name", "customer_name", "contact_name", "display_name", "fullName"]
            if cls == "person_ru":
                keys += ["fio", "ФИО"]
            return self.field_sample(kind, r.choice(keys), v, cls, True, {"status": r.choice(["active", "pending", "churned"])})
        if kind == "ADDRESS":
            v, cls = self.address()
            keys = ["address", "street", "billing_address", "shipping_address", "home_address"]
            if cls == "address_ru":
                keys.append("адрес")
            return self.field_sample(kind, r.choice(keys), v, cls, True, {"type": r.choice(["home", "work"])})
        raise ValueError(kind)

    NEUTRAL = [
        "Reference {v} attached.", "See {v} for details.", "ID {v} was archived.",
        "Ticket updated: {v}", "Номер {v} в системе.", "Processed item {v} without errors.",
    ]

    def decoy_sample(self, kind: str) -> dict:
        r = self.r
        if kind == "CREDIT_CARD":
            v, cls = self.decoy_order_number()
            return self.text_sample(kind, v, cls, False, [
                "Order number {v} has shipped.", "Your order #{v} is confirmed.", "Tracking: {v}",
                "Заказ № {v} передан в доставку.", "Shipment {v} left the warehouse.",
            ])
        if kind == "IBAN":
            v, cls = self.decoy_iban()
            return self.text_sample(kind, v, cls, False, [
                "Rejected account {v}: checksum mismatch.", "Invalid IBAN {v} entered by user.",
                "Reference {v} attached.",
            ])
        if kind == "US_SSN":
            v, cls = self.decoy_ssn()
            return self.text_sample(kind, v, cls, False, self.NEUTRAL + ["Part no. {v} is out of stock."])
        if kind == "RU_INN":
            v, cls = self.decoy_inn()
            if r.random() < 0.3:
                return self.field_sample(kind, r.choice(["account_id", "customer_id", "order_id"]), v, cls, False)
            return self.text_sample(kind, v, cls, False, self.NEUTRAL + ["Account {v} was created.", "Lot number {v}"])
        if kind == "RU_SNILS":
            v, cls = self.decoy_snils()
            return self.text_sample(kind, v, cls, False, self.NEUTRAL + ["Серийный номер {v}", "Batch {v} done."])
        if kind == "IP":
            if r.random() < 0.8:
                v, cls = self.decoy_version()
                return self.text_sample(kind, v, cls, False, [
                    "Upgraded to version {v} today.", "Running release {v}.", "See section {v} of the contract.",
                    "Package updated ({v})", "OID {v} not found.", "build {v} passed all checks",
                ])
            v, cls = self.decoy_time()
            return self.text_sample(kind, v, cls, False, ["Job finished at {v} UTC.", "Elapsed {v}", "Начало в {v}"])
        if kind == "EMAIL":
            v, cls = self.decoy_email_like()
            return self.text_sample(kind, v, cls, False, [
                "Follow us at {v} for updates.", "Added dependency {v}", "Decorated with {v} in the handler.",
                "The stylesheet uses {v} for phones.",
            ])
        if kind == "PHONE":
            v, cls = self.decoy_phone_like()
            return self.text_sample(kind, v, cls, False, [
                "ISBN {v}", "Ship to ZIP {v}.", "Order {v} was refunded.", "Invoice {v} is overdue.",
                "Reference {v} attached.",
            ])
        if kind == "SECRET":
            c = r.random()
            if c < 0.2:
                return self.field_sample(kind, "token_type", "Bearer", "token_type", False, {"expires_in": 3600})
            v, cls = self.decoy_secret_like()
            if c < 0.5:
                return self.field_sample(kind, r.choice(["commit", "digest", "request_id"]), v, cls, False)
            return self.text_sample(kind, v, cls, False, [
                "Merged commit {v} into main.", "Pulled image {v}", "Request {v} failed with 502.",
            ])
        if kind == "PERSON":
            if r.random() < 0.5:
                # Tool results name products, files, tools and projects under a
                # bare "name" key; none of them is a person.
                v, cls = r.choice([
                    (r.choice(["Ergonomic Office Chair", "Wireless Mouse", "Standing Desk", "USB-C Hub",
                               "Noise Cancelling Headphones", "Premium Plan", "Starter Kit"]), "product_under_name"),
                    (r.choice(["quarterly-report-2024.pdf", "invoice_0423.xlsx", "README.md", "logo.png"]),
                     "file_under_name"),
                    (r.choice(["list_customers", "get_order", "send_email", "search_tickets"]), "tool_under_name"),
                    (r.choice(["airlock-core", "billing-service", "Project Phoenix", "Q3 budget 2024"]),
                     "project_under_name"),
                ])
                return self.field_sample(kind, "name", v, cls, False, {"type": cls.split("_")[0]})
            v = r.choice(["Blue Widget", "Acme Corporation", "Quarterly Report", "Logistics", "Gold Tier",
                          "Office Supplies", "Annual Subscription"])
            key = r.choice(["product_name", "plan", "company", "title", "category", "department"])
            return self.field_sample(kind, key, v, "non_person_key", False)
        if kind == "ADDRESS":
            v = r.choice(["Berlin", "Warehouse B", "Remote", "EMEA", "Building 7", "Floor 3", "Online"])
            key = r.choice(["city", "location", "region", "site", "office"])
            return self.field_sample(kind, key, v, "non_address_key", False)
        if kind == OTHER:
            gen = r.choice([self.decoy_date, self.decoy_timestamp, self.decoy_timestamp, self.decoy_uuid, self.decoy_price])
            v, cls = gen()
            if cls.startswith("epoch") and r.random() < 0.5:
                return self.field_sample(kind, r.choice(["created_at", "updated_at", "ts"]), int(v), cls + "_json_number", False)
            if r.random() < 0.3:
                key = {"date": "date", "uuid": "id", "price": "amount"}.get(cls, "created_at")
                return self.field_sample(kind, key, v, cls, False)
            return self.text_sample(kind, v, cls, False, [
                "Created on {v}.", "Last sync: {v}", "Request id {v}", "Total due: {v}",
                "Updated {v} by the scheduler.", "Дата: {v}", "Amount {v} was refunded.",
            ])
        raise ValueError(kind)

    def samples(self, n: int) -> list[dict]:
        """`n` PII samples per kind, `n` decoys per kind that has decoys,
        and `2n` generic decoys, shuffled."""
        out = []
        for kind in KINDS:
            out += [self.pii_sample(kind) for _ in range(n)]
            out += [self.decoy_sample(kind) for _ in range(n)]
        out += [self.decoy_sample(OTHER) for _ in range(2 * n)]
        self.r.shuffle(out)
        return out

    # -- big document -------------------------------------------------------
    def customer(self, i: int) -> dict:
        r = self.r
        name, _ = self.person()
        email, _ = self.email()
        phone, _ = self.phone()
        card, _ = self.card()
        address, _ = self.address()
        orders = []
        for _ in range(r.randint(1, 4)):
            orders.append({
                "order_id": f"ORD-{r.randint(2019, 2025)}-{self.digits(6)}",
                "created_at": self.decoy_timestamp(plain=True)[0] if r.random() < 0.5 else self.decoy_date()[0],
                "amount": round(r.uniform(5, 2500), 2),
                "currency": r.choice(["USD", "EUR", "RUB", "GBP"]),
                "sku": f"SKU-{self.chars(string.ascii_uppercase, 3)}-{self.digits(4)}",
                "status": r.choice(["paid", "shipped", "refunded", "cancelled"]),
            })
        record = {
            "id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "name": name,
            "email": email,
            "phone": phone,
            "address": address,
            "payment": {"card": card, "brand": r.choice(["visa", "mastercard", "amex", "mir"]),
                        "exp": f"{r.randint(1, 12):02d}/{r.randint(26, 31)}"},
            "created_at": self.decoy_timestamp(plain=True)[0],
            "plan": r.choice(["free", "pro", "enterprise"]),
            "tags": r.sample(["vip", "b2b", "newsletter", "churn-risk", "beta", "eu"], r.randint(0, 3)),
            "orders": orders,
            "notes": r.choice([
                f"Customer asked to be called back at {phone} about order {orders[0]['order_id']}.",
                f"Refund of {self.decoy_price()[0]} approved; confirmation sent to {email}.",
                f"Logged in from {self.ip()[0]} using app {self.decoy_version()[0]}.",
                f"Payout account {self.iban()[0]} verified on {self.decoy_date()[0]}.",
                "Prefers e-mail contact. No further action needed.",
                f"Ticket {self.digits(6)} closed; satisfaction 5/5.",
            ]),
        }
        if r.random() < 0.2:
            record["ssn"] = self.ssn()[0]
        if r.random() < 0.2:
            record["inn"] = self.inn()[0]
        return record

    def write_big_json(self, path: str, megabytes: float) -> int:
        target = int(megabytes * 1024 * 1024)
        size = 0
        with open(path, "w", encoding="utf-8") as f:
            f.write("[")
            i = 0
            while size < target:
                chunk = json.dumps(self.customer(i), ensure_ascii=False)
                f.write(("," if i else "") + "\n" + chunk)
                size += len(chunk.encode()) + 2
                i += 1
            f.write("\n]\n")
        return i

    def write_sparse_json(self, path: str, megabytes: float) -> int:
        """An API-like document (issue-tracker records) where personal data is
        rare: one record in twenty carries a reporter's e-mail address."""
        r = self.r
        words = ("build test deploy merge review branch commit release version crash fix flaky "
                 "timeout cache index query parser worker queue retry config docs").split()
        target = int(megabytes * 1024 * 1024)
        size = 0
        with open(path, "w", encoding="utf-8") as f:
            f.write("[")
            i = 0
            while size < target:
                record = {
                    "id": i,
                    "sha": "%040x" % r.getrandbits(160),
                    "title": " ".join(r.choice(words) for _ in range(8)),
                    "state": r.choice(["open", "closed"]),
                    "labels": [r.choice(words) for _ in range(3)],
                    "comments": r.randrange(100),
                    "created_at": f"2024-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T10:00:00Z",
                    "author": {"login": r.choice(words) + str(r.randrange(1000)), "site_admin": False},
                    "body": " ".join(r.choice(words) for _ in range(24)),
                }
                if i % 20 == 0:
                    record["reporter_email"] = f"user{i}@example.org"
                chunk = json.dumps(record)
                f.write(("," if i else "") + "\n" + chunk)
                size += len(chunk.encode()) + 2
                i += 1
            f.write("\n]\n")
        return i


# ---------------------------------------------------------------------------
# Self-check: generated values valid, decoys invalid, by the rules above.


def self_check(samples: list[dict]) -> list[str]:
    problems = []
    for s in samples:
        for label in s["labels"]:
            kind, value, pii = label["kind"], label["value"], label["pii"]
            compact = value.replace(" ", "").replace("-", "")
            if kind == "CREDIT_CARD":
                if luhn_ok(compact) != pii or not (13 <= len(compact) <= 19):
                    problems.append(f"card {value} pii={pii}")
            elif kind == "IBAN":
                if iban_ok(value) != pii:
                    problems.append(f"iban {value} pii={pii}")
            elif kind == "US_SSN":
                if ssn_ok(value) != pii:
                    problems.append(f"ssn {value} pii={pii}")
            elif kind == "RU_INN":
                if inn_ok(value) != pii:
                    problems.append(f"inn {value} pii={pii}")
            elif kind == "RU_SNILS":
                if snils_ok(value) != pii:
                    problems.append(f"snils {value} pii={pii}")
            elif kind == "IP":
                try:
                    ipaddress.ip_address(value)
                    valid = True
                except ValueError:
                    valid = False
                if valid != pii:
                    problems.append(f"ip {value} pii={pii}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="PII samples per kind (and decoys per kind)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-", help="JSONL output (default stdout)")
    ap.add_argument("--big-json", help="also write a large JSON array of customer records here")
    ap.add_argument("--big-mb", type=float, default=32.0)
    args = ap.parse_args()
    corpus = Corpus(args.seed)
    samples = corpus.samples(args.n)
    problems = self_check(samples)
    if problems:
        print("corpus self-check failed:\n  " + "\n  ".join(problems[:20]), file=sys.stderr)
        return 1
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for s in samples:
        out.write(json.dumps(s, ensure_ascii=False) + "\n")
    if out is not sys.stdout:
        out.close()
    if args.big_json:
        records = Corpus(args.seed + 1).write_big_json(args.big_json, args.big_mb)
        print(f"wrote {records} records to {args.big_json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
