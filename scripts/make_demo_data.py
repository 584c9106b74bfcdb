"""Generate bnner-tui's bundled demo set (core/data/demo/) from hand-written lists and templates.

The demo set is synthetic: names of real public persons, organisations and places, put
into sentence templates written for this project, in WikiANN's token<TAB>tag format and
label set (IOB2 over PER/ORG/LOC). It is NOT WikiANN data. Deterministic: same output on
every run (fixed seed, no set iteration), so the committed files can be regenerated and
diffed.

    .venv/bin/python scripts/make_demo_data.py
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "core" / "data" / "demo"
SEED = 20241124
SIZES = {"train": 480, "validation": 60, "test": 60}

PERSONS = [
    "শেখ মুজিবুর রহমান",
    "রবীন্দ্রনাথ ঠাকুর",
    "কাজী নজরুল ইসলাম",
    "জীবনানন্দ দাশ",
    "বেগম রোকেয়া",
    "হুমায়ূন আহমেদ",
    "জসীমউদ্দীন",
    "লালন ফকির",
    "মাইকেল মধুসূদন দত্ত",
    "ঈশ্বরচন্দ্র বিদ্যাসাগর",
    "সুভাষচন্দ্র বসু",
    "জগদীশচন্দ্র বসু",
    "সত্যেন্দ্রনাথ বসু",
    "অমর্ত্য সেন",
    "মুহাম্মদ ইউনূস",
    "সাকিব আল হাসান",
    "মাশরাফি বিন মর্তুজা",
    "তামিম ইকবাল",
    "মুশফিকুর রহিম",
    "শেখ হাসিনা",
    "খালেদা জিয়া",
    "জিয়াউর রহমান",
    "তাজউদ্দীন আহমদ",
    "এ কে ফজলুল হক",
    "আবদুল হামিদ খান ভাসানী",
    "সৈয়দ মুজতবা আলী",
    "শামসুর রাহমান",
    "সুফিয়া কামাল",
    "জহির রায়হান",
    "আব্বাসউদ্দীন আহমদ",
    "রুনা লায়লা",
    "সাবিনা ইয়াসমিন",
    "ফিরোজা বেগম",
    "শরৎচন্দ্র চট্টোপাধ্যায়",
    "বঙ্কিমচন্দ্র চট্টোপাধ্যায়",
    "মহাত্মা গান্ধী",
    "জওহরলাল নেহেরু",
    "নেলসন ম্যান্ডেলা",
    "আলবার্ট আইনস্টাইন",
    "উইলিয়াম শেক্সপিয়র",
    "লিওনেল মেসি",
    "আনিসুজ্জামান",
    "মুনীর চৌধুরী",
    "আখতারুজ্জামান ইলিয়াস",
    "সেলিনা হোসেন",
    "প্রীতিলতা ওয়াদ্দেদার",
    "সূর্য সেন",
    "ফজলুর রহমান খান",
    "জয়নুল আবেদিন",
    "এস এম সুলতান",
]
FIRST_NAMES = [
    "রহিম",
    "করিম",
    "ফারহানা",
    "নুসরাত",
    "তানভীর",
    "সুমাইয়া",
    "আরিফ",
    "মিতু",
    "রাকিব",
    "শর্মিলা",
    "অনুপম",
    "নাসরিন",
    "ইমরান",
    "দীপা",
    "মাহমুদ",
    "রুবিনা",
]
SURNAMES = ["হোসেন", "চৌধুরী", "আহমেদ", "ইসলাম", "রায়", "দাস", "সরকার", "খান", "মজুমদার", "ভট্টাচার্য", "তালুকদার", "সিদ্দিকী"]

ORGS = [
    "ঢাকা বিশ্ববিদ্যালয়",
    "বাংলাদেশ ক্রিকেট বোর্ড",
    "বাংলাদেশ ব্যাংক",
    "বাংলাদেশ আওয়ামী লীগ",
    "বাংলাদেশ জাতীয়তাবাদী দল",
    "জাতিসংঘ",
    "বিশ্ব স্বাস্থ্য সংস্থা",
    "গ্রামীণ ব্যাংক",
    "ব্র্যাক",
    "বিমান বাংলাদেশ এয়ারলাইন্স",
    "বাংলা একাডেমি",
    "রাজশাহী বিশ্ববিদ্যালয়",
    "চট্টগ্রাম বিশ্ববিদ্যালয়",
    "বাংলাদেশ প্রকৌশল বিশ্ববিদ্যালয়",
    "জাহাঙ্গীরনগর বিশ্ববিদ্যালয়",
    "বাংলাদেশ জাতীয় ফুটবল দল",
    "বাংলাদেশ জাতীয় ক্রিকেট দল",
    "আবাহনী লিমিটেড",
    "মোহামেডান স্পোর্টিং ক্লাব",
    "বাংলাদেশ সেনাবাহিনী",
    "প্রথম আলো",
    "দৈনিক ইত্তেফাক",
    "বাংলাদেশ টেলিভিশন",
    "বিবিসি বাংলা",
    "ইউনেস্কো",
    "বিশ্বব্যাংক",
    "এশীয় উন্নয়ন ব্যাংক",
    "কলকাতা বিশ্ববিদ্যালয়",
    "বিশ্বভারতী বিশ্ববিদ্যালয়",
    "ভারতীয় জাতীয় কংগ্রেস",
    "ইস্ট বেঙ্গল ক্লাব",
    "মোহনবাগান অ্যাথলেটিক ক্লাব",
    "গুগল",
    "মাইক্রোসফট",
    "বাংলাদেশ নির্বাচন কমিশন",
    "বাংলাদেশ সুপ্রিম কোর্ট",
    "ঢাকা মেডিকেল কলেজ",
    "বাংলাদেশ রেলওয়ে",
    "শাহজালাল বিজ্ঞান ও প্রযুক্তি বিশ্ববিদ্যালয়",
    "বাংলাদেশ কৃষি বিশ্ববিদ্যালয়",
]
UNIVERSITIES = [o for o in ORGS if o.endswith("বিশ্ববিদ্যালয়") or o.endswith("কলেজ")]
PUBLISHERS = ["বাংলা একাডেমি", "প্রথম আলো", "দৈনিক ইত্তেফাক", "আনন্দ পাবলিশার্স", "মাওলা ব্রাদার্স", "অন্যপ্রকাশ"]
SPORTS_ORGS = [
    "আবাহনী লিমিটেড",
    "মোহামেডান স্পোর্টিং ক্লাব",
    "বাংলাদেশ জাতীয় ক্রিকেট দল",
    "বাংলাদেশ জাতীয় ফুটবল দল",
    "ইস্ট বেঙ্গল ক্লাব",
    "মোহনবাগান অ্যাথলেটিক ক্লাব",
    "ঢাকা ডায়নামাইটস",
    "রংপুর রাইডার্স",
]
DISTRICTS = [
    "কুমিল্লা",
    "নোয়াখালী",
    "কক্সবাজার",
    "বগুড়া",
    "যশোর",
    "দিনাজপুর",
    "পাবনা",
    "টাঙ্গাইল",
    "ফরিদপুর",
    "গোপালগঞ্জ",
    "ময়মনসিংহ",
    "বান্দরবান",
    "রাঙামাটি",
    "সিরাজগঞ্জ",
    "কুষ্টিয়া",
    "ভোলা",
    "নেত্রকোনা",
    "সুনামগঞ্জ",
    "মৌলভীবাজার",
    "চাঁদপুর",
]
CITIES = [
    "ঢাকা",
    "চট্টগ্রাম",
    "খুলনা",
    "রাজশাহী",
    "সিলেট",
    "বরিশাল",
    "রংপুর",
    "কলকাতা",
    "দিল্লি",
    "মুম্বাই",
    "লন্ডন",
    "নিউ ইয়র্ক",
    "টোকিও",
    "প্যারিস",
    "সিডনি",
    "কাঠমান্ডু",
    "মিরপুর",
    "গুলশান",
    "ধানমন্ডি",
    "পুরান ঢাকা",
    "সোনারগাঁও",
]
COUNTRIES = [
    "বাংলাদেশ",
    "ভারত",
    "পাকিস্তান",
    "নেপাল",
    "মিয়ানমার",
    "শ্রীলঙ্কা",
    "জাপান",
    "চীন",
    "কানাডা",
    "যুক্তরাষ্ট্র",
    "যুক্তরাজ্য",
    "অস্ট্রেলিয়া",
    "ফ্রান্স",
    "পশ্চিমবঙ্গ",
    "আসাম",
    "ত্রিপুরা",
]
NATURE = [
    "সুন্দরবন",
    "পদ্মা নদী",
    "যমুনা নদী",
    "মেঘনা নদী",
    "বঙ্গোপসাগর",
    "হিমালয়",
    "কাঞ্চনজঙ্ঘা",
    "সেন্ট মার্টিন দ্বীপ",
    "লালবাগ কেল্লা",
    "মহাস্থানগড়",
    "পাহাড়পুর",
    "কাপ্তাই হ্রদ",
    "জাফলং",
    "রাতারগুল জলাবন",
    "কুয়াকাটা সমুদ্র সৈকত",
]
RIVERS = ["পদ্মা নদী", "যমুনা নদী", "মেঘনা নদী", "ব্রহ্মপুত্র নদ", "কর্ণফুলী নদী", "তিস্তা নদী", "সুরমা নদী"]
CAPITALS = [
    ("বাংলাদেশ", "ঢাকা"),
    ("ভারত", "নয়াদিল্লি"),
    ("জাপান", "টোকিও"),
    ("ফ্রান্স", "প্যারিস"),
    ("নেপাল", "কাঠমান্ডু"),
    ("যুক্তরাজ্য", "লন্ডন"),
    ("শ্রীলঙ্কা", "কলম্বো"),
    ("চীন", "বেইজিং"),
    ("মিয়ানমার", "নেপিডো"),
    ("পাকিস্তান", "ইসলামাবাদ"),
]
ATHLETES = [
    "সাকিব আল হাসান",
    "মাশরাফি বিন মর্তুজা",
    "তামিম ইকবাল",
    "মুশফিকুর রহিম",
    "মাহমুদউল্লাহ রিয়াদ",
    "জামাল ভূঁইয়া",
    "কাজী সালাহউদ্দিন",
    "সাবিনা খাতুন",
    "মোস্তাফিজুর রহমান",
]
ROLES = ["লেখক", "কবি", "রাজনীতিবিদ", "ক্রিকেটার", "বিজ্ঞানী", "শিল্পী", "সংগীতশিল্পী", "অর্থনীতিবিদ"]

# Sentence templates: {SLOT} or {SLOT:gen} (genitive -র/-এর) or {SLOT:loc} (locative -য়/-তে/-এ).
# Slots: PER, ATHLETE (PER), ORG, UNI, PUB, SPORTS (ORG), DISTRICT, CITY, COUNTRY, NATURE, RIVER (LOC), YEAR, ROLE (O).
SENTENCES = [
    "{PER} {CITY:loc} জন্মগ্রহণ করেন ।",
    "{PER:gen} জন্ম {DISTRICT} জেলার একটি গ্রামে ।",
    "{ORG:gen} প্রধান কার্যালয় {CITY:loc} অবস্থিত ।",
    "{PER} {ORG:gen} সভাপতি ছিলেন ।",
    "{DISTRICT} {BD:gen} একটি জেলা ।",
    "{PER} {UNI:loc} পড়াশোনা করেন ।",
    "{PER} ও {PER} {CITY:gen} একটি সভায় বক্তব্য দেন ।",
    "গতকাল {CITY:loc} {ORG:gen} এক অনুষ্ঠানে {PER} উপস্থিত ছিলেন ।",
    "{PER} {YEAR} সালে {ORG:loc} যোগ দেন ।",
    "{NATURE} {COUNTRY:gen} অন্যতম দর্শনীয় স্থান ।",
    "{ORG} {YEAR} সালে প্রতিষ্ঠিত হয় ।",
    "{PER:gen} লেখা বইটি {PUB} প্রকাশ করেছে ।",
    "{CITY} থেকে {CITY} পর্যন্ত নতুন রেলপথ চালু হয়েছে ।",
    "{PER} বলেন , {COUNTRY} দ্রুত এগিয়ে যাচ্ছে ।",
    "{ORG} এবং {ORG:gen} মধ্যে একটি চুক্তি স্বাক্ষরিত হয়েছে ।",
    "{PER} ছিলেন একজন বিখ্যাত ব্যক্তিত্ব ।",
    "{ATHLETE} {SPORTS:gen} হয়ে খেলেন ।",
    "এ সময় {ORG:gen} কর্মকর্তারা উপস্থিত ছিলেন ।",
    "বৃহস্পতিবার {PER} {CITY} সফরে যান ।",
    "{RIVER} {BD:gen} ভেতর দিয়ে প্রবাহিত হয়েছে ।",
    "{PER} দীর্ঘদিন {CITY:loc} বসবাস করেছেন ।",
    "{DISTRICT:loc} {ORG:gen} নতুন শাখা খোলা হয়েছে ।",
    "{YEAR} সালে {PER} {COUNTRY} সফর করেন ।",
    "{ORG:gen} উদ্যোগে {DISTRICT:loc} একটি মেলা অনুষ্ঠিত হয় ।",
    "পর্যটকেরা প্রতি বছর {NATURE} দেখতে যান ।",
    "{PER} {YEAR} সালে মৃত্যুবরণ করেন ।",
    "{COUNTRY:gen} সঙ্গে {COUNTRY:gen} বাণিজ্য বেড়েছে ।",
    "{PER:gen} মতে {ORG} আরও স্বচ্ছ হবে ।",
    "{SPORTS} {CITY:gen} মাঠে জয় পেয়েছে ।",
    "আজ {CITY:loc} বৃষ্টি হতে পারে ।",
    "{CAPITAL} ।",
    "তিনি {UNI:loc} শিক্ষকতা করতেন ।",
    "সভায় কোনো সিদ্ধান্ত হয়নি ।",
]
# Title-like fragments, as in WikiANN (a name, a name with a place, a place with its district).
FRAGMENTS = [
    "{PER}",
    "{ORG}",
    "{CITY}",
    "{COUNTRY}",
    "{NATURE}",
    "{DISTRICT} জেলা#LOC",
    "{DISTRICT} সদর উপজেলা#LOC",
    "{CITY} , {COUNTRY}#LOC",
    "{PER} ( জন্ম {YEAR} )",
    "{RIVER}",
    "{SPORTS}",
    "{ATHLETE}",
]
_VOWEL_SIGNS = set("ািীুূৃেৈোৌ")
_VOWELS = set("অআইঈউঊঋএঐওঔ")
_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
_TYPES = {
    "PER": "PER",
    "ATHLETE": "PER",
    "ORG": "ORG",
    "UNI": "ORG",
    "PUB": "ORG",
    "SPORTS": "ORG",
    "DISTRICT": "LOC",
    "CITY": "LOC",
    "COUNTRY": "LOC",
    "BD": "LOC",
    "NATURE": "LOC",
    "RIVER": "LOC",
}


def genitive(word: str) -> str:
    """ঢাকা -> ঢাকার, সিলেট -> সিলেটের, সত্যজিৎ -> সত্যজিতের."""
    if word.endswith("ৎ"):
        return word[:-1] + "তের"
    return word + ("র" if word[-1] in _VOWEL_SIGNS or word[-1] in _VOWELS else "ের")


def locative(word: str) -> str:
    """ঢাকা -> ঢাকায়, রাজশাহী -> রাজশাহীতে, সিলেট -> সিলেটে."""
    if word.endswith("ৎ"):
        return word[:-1] + "তে"
    if word.endswith("া"):
        return word + "য়"
    if word[-1] in _VOWEL_SIGNS or word[-1] in _VOWELS:
        return word + "তে"
    return word + "ে"


class Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def person(self) -> str:
        if self.rng.random() < 0.3:
            return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"
        return self.rng.choice(PERSONS)

    def fill(self, slot: str) -> tuple[list[str], str | None]:
        rng = self.rng
        if slot == "PER":
            return self.person().split(), "PER"
        if slot == "YEAR":
            return [str(rng.randint(1890, 2023)).translate(_DIGITS)], None
        if slot == "ROLE":
            return [rng.choice(ROLES)], None
        pool = {
            "ORG": ORGS,
            "UNI": UNIVERSITIES,
            "PUB": PUBLISHERS,
            "SPORTS": SPORTS_ORGS,
            "DISTRICT": DISTRICTS,
            "CITY": CITIES,
            "COUNTRY": COUNTRIES,
            "ATHLETE": ATHLETES,
            "BD": ["বাংলাদেশ"],
            "NATURE": NATURE,
            "RIVER": RIVERS,
        }[slot]
        return rng.choice(pool).split(), _TYPES[slot]

    def render(self, template: str) -> tuple[list[str], list[str]]:
        whole_type = None
        if "#" in template:  # the whole fragment is one entity of this type
            template, whole_type = template.split("#")
        tokens: list[str] = []
        tags: list[str] = []
        for part in template.split():
            if part == "{CAPITAL}":
                country, city = self.rng.choice(CAPITALS)
                for toks, t in ((genitive(country), "LOC"), ("রাজধানী", None), (city, "LOC")):
                    tokens.append(toks)
                    tags.append(f"B-{t}" if t else "O")
                continue
            if part.startswith("{") and part.endswith("}"):
                slot, _, case = part[1:-1].partition(":")
                words, typ = self.fill(slot)
                if case == "gen":
                    words[-1] = genitive(words[-1])
                elif case == "loc":
                    words[-1] = locative(words[-1])
                tokens += words
                tags += ["O"] * len(words) if typ is None else [f"B-{typ}"] + [f"I-{typ}"] * (len(words) - 1)
            else:
                tokens.append(part)
                tags.append("O")
        if whole_type:
            tags = [f"B-{whole_type}"] + [f"I-{whole_type}"] * (len(tokens) - 1)
        return [unicodedata.normalize("NFC", t) for t in tokens], tags


def make(seed: int = SEED) -> dict[str, list[tuple[list[str], list[str]]]]:
    maker = Maker(seed)
    total = sum(SIZES.values())
    seen: dict[tuple[str, ...], list[str]] = {}
    attempts = 0
    while len(seen) < total:
        attempts += 1
        if attempts > total * 50:
            raise RuntimeError("templates too few for the requested size")
        # About 40% title-like fragments and 60% full sentences, like WikiANN's mix of titles and text.
        template = maker.rng.choice(FRAGMENTS if maker.rng.random() < 0.4 else SENTENCES)
        tokens, tags = maker.render(template)
        seen.setdefault(tuple(tokens), tags)
    items = [(list(k), v) for k, v in seen.items()]
    maker.rng.shuffle(items)
    out, start = {}, 0
    for split, n in SIZES.items():
        out[split] = items[start : start + n]
        start += n
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for split, rows in make().items():
        text = (
            "\n\n".join("\n".join(f"{tok}\t{tag}" for tok, tag in zip(toks, tags, strict=True)) for toks, tags in rows)
            + "\n"
        )
        (OUT / f"{split}.conll").write_text(text, encoding="utf-8")
        print(f"{split}: {len(rows)} sentences -> {OUT / f'{split}.conll'}")


if __name__ == "__main__":
    main()
