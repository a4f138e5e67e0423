"""Names in several scripts for the synthetic archive's subjects.

Real place names and common personal names with their usual forms, so that subject names,
search text and source passages carry Han (simplified and traditional), Japanese kanji and kana,
Cyrillic and Arabic text the way real records do, not just ASCII.
"""

from __future__ import annotations

import random

# English, simplified Chinese, traditional Chinese, Japanese, katakana reading, Russian, Arabic.
PLACES = [
    ("Nanchang", "南昌", "南昌", "南昌", "ナンチャン", "Наньчан", "نانتشانغ"),
    ("Changsha", "长沙", "長沙", "長沙", "チャンシャー", "Чанша", "تشانغشا"),
    ("Quzhou", "衢州", "衢州", "衢州", "チュイチョウ", "Цюйчжоу", "تشيوتشو"),
    ("Lishui", "丽水", "麗水", "麗水", "リーショイ", "Лишуй", "ليشوي"),
    ("Jinhua", "金华", "金華", "金華", "チンホア", "Цзиньхуа", "جينهوا"),
    ("Wenzhou", "温州", "溫州", "温州", "ウェンチョウ", "Вэньчжоу", "ونتشو"),
    ("Shangrao", "上饶", "上饒", "上饒", "シャンラオ", "Шанжао", "شانغراو"),
    ("Ningbo", "宁波", "寧波", "寧波", "ニンポー", "Нинбо", "نينغبو"),
    ("Hangzhou", "杭州", "杭州", "杭州", "ハンチョウ", "Ханчжоу", "هانغتشو"),
    ("Yushan", "玉山", "玉山", "玉山", "ユーシャン", "Юйшань", "يوشان"),
    ("Guilin", "桂林", "桂林", "桂林", "コイリン", "Гуйлинь", "قويلين"),
    ("Hengyang", "衡阳", "衡陽", "衡陽", "ホンヤン", "Хэнъян", "هنغيانغ"),
]

# (kind, English, simplified, traditional, Japanese, Russian, Arabic); {p} is the place.
EVENT_KINDS = [
    (
        "battle",
        "Battle of {p} ({y})",
        "{p}会战（{y}）",
        "{p}會戰（{y}）",
        "{p}の戦い（{y}年）",
        "Битва за {p} ({y})",
        "معركة {p} ({y})",
    ),
    (
        "flood",
        "{p} flood of {y}",
        "{y}年{p}水灾",
        "{y}年{p}水災",
        "{y}年{p}洪水",
        "Наводнение ({p}, {y})",
        "فيضان {p} ({y})",
    ),
    (
        "epidemic",
        "{p} cholera epidemic of {y}",
        "{y}年{p}霍乱",
        "{y}年{p}霍亂",
        "{y}年{p}コレラ流行",
        "Эпидемия холеры ({p}, {y})",
        "وباء الكوليرا في {p} ({y})",
    ),
    (
        "bombing",
        "Bombing of {p} ({y})",
        "{p}大轰炸（{y}）",
        "{p}大轟炸（{y}）",
        "{p}爆撃（{y}年）",
        "Бомбардировка ({p}, {y})",
        "قصف {p} ({y})",
    ),
]

# Personal names by tradition: (Latin, native forms with their language tags).
CHINESE_FAMILY = [
    ("Zhang", "张", "張"),
    ("Wang", "王", "王"),
    ("Li", "李", "李"),
    ("Liu", "刘", "劉"),
]
CHINESE_FAMILY += [
    ("Chen", "陈", "陳"),
    ("Yang", "杨", "楊"),
    ("Huang", "黄", "黃"),
    ("Zhao", "赵", "趙"),
]
CHINESE_GIVEN = [
    ("Wei", "伟", "偉"),
    ("Fang", "芳", "芳"),
    ("Jun", "军", "軍"),
    ("Hua", "华", "華"),
]
CHINESE_GIVEN += [
    ("Ming", "明", "明"),
    ("Qiang", "强", "強"),
    ("Lan", "兰", "蘭"),
    ("Dong", "东", "東"),
]
JAPANESE_FAMILY = [("Tanaka", "田中", "たなか"), ("Suzuki", "鈴木", "すずき")]
JAPANESE_FAMILY += [("Takahashi", "高橋", "たかはし"), ("Watanabe", "渡辺", "わたなべ")]
JAPANESE_FAMILY += [("Yamamoto", "山本", "やまもと"), ("Nakamura", "中村", "なかむら")]
JAPANESE_GIVEN = [("Hiroshi", "浩", "ひろし"), ("Takeshi", "武", "たけし"), ("Yuki", "雪", "ゆき")]
JAPANESE_GIVEN += [
    ("Kenji", "健二", "けんじ"),
    ("Haruko", "春子", "はるこ"),
    ("Akira", "明", "あきら"),
]
RUSSIAN_FAMILY = [("Ivanov", "Иванов"), ("Petrov", "Петров"), ("Sokolov", "Соколов")]
RUSSIAN_FAMILY += [("Volkov", "Волков"), ("Morozov", "Морозов"), ("Kuznetsov", "Кузнецов")]
RUSSIAN_GIVEN = [("Ivan", "Иван"), ("Sergei", "Сергей"), ("Nikolai", "Николай")]
RUSSIAN_GIVEN += [("Dmitri", "Дмитрий"), ("Pavel", "Павел"), ("Mikhail", "Михаил")]
ARABIC_FAMILY = [("Haddad", "حداد"), ("Khalil", "خليل"), ("Nasser", "ناصر"), ("Saleh", "صالح")]
ARABIC_FAMILY += [("Mansour", "منصور"), ("Hamdan", "حمدان")]
ARABIC_GIVEN = [("Ahmad", "أحمد"), ("Fatima", "فاطمة"), ("Omar", "عمر"), ("Layla", "ليلى")]
ARABIC_GIVEN += [("Yusuf", "يوسف"), ("Karim", "كريم")]


def place_names(place: tuple) -> list[dict]:
    en, hans, hant, ja, kana, ru, ar = place
    return [
        {"name": en, "language": "en", "primary": True},
        {"name": hans, "language": "zh-Hans"},
        {"name": hant, "language": "zh-Hant"},
        {"name": ja, "language": "ja"},
        {"name": kana, "language": "ja-Kana"},
        {"name": ru, "language": "ru"},
        {"name": ar, "language": "ar"},
    ]


def event_names(kind: tuple, place: tuple, year: int) -> list[dict]:
    _, en, hans, hant, ja, ru, ar = kind
    p_en, p_hans, p_hant, p_ja, _, p_ru, p_ar = place
    return [
        {"name": en.format(p=p_en, y=year), "language": "en", "primary": True},
        {"name": hans.format(p=p_hans, y=year), "language": "zh-Hans"},
        {"name": hant.format(p=p_hant, y=year), "language": "zh-Hant"},
        {"name": ja.format(p=p_ja, y=year), "language": "ja"},
        {"name": ru.format(p=p_ru, y=year), "language": "ru"},
        {"name": ar.format(p=p_ar, y=year), "language": "ar"},
    ]


def person_names(rng: random.Random) -> list[dict]:
    """A person's names: Latin first (the label), then the forms of their own tradition."""
    tradition = rng.choice(["chinese", "japanese", "russian", "arabic"])
    if tradition == "chinese":
        family, given = rng.choice(CHINESE_FAMILY), rng.choice(CHINESE_GIVEN)
        return [
            {"name": f"{family[0]} {given[0]}", "language": "en", "primary": True},
            {"name": family[1] + given[1], "language": "zh-Hans"},
            {"name": family[2] + given[2], "language": "zh-Hant"},
        ]
    if tradition == "japanese":
        family, given = rng.choice(JAPANESE_FAMILY), rng.choice(JAPANESE_GIVEN)
        return [
            {"name": f"{given[0]} {family[0]}", "language": "en", "primary": True},
            {"name": family[1] + given[1], "language": "ja"},
            {"name": f"{family[2]} {given[2]}", "language": "ja-Hira"},
        ]
    if tradition == "russian":
        family, given = rng.choice(RUSSIAN_FAMILY), rng.choice(RUSSIAN_GIVEN)
        return [
            {"name": f"{given[0]} {family[0]}", "language": "en", "primary": True},
            {"name": f"{given[1]} {family[1]}", "language": "ru"},
        ]
    family, given = rng.choice(ARABIC_FAMILY), rng.choice(ARABIC_GIVEN)
    return [
        {"name": f"{given[0]} {family[0]}", "language": "en", "primary": True},
        {"name": f"{given[1]} {family[1]}", "language": "ar"},
    ]
