"""How this project names what official lists name: stable ids made from what a list says, and agency
names compared once spelling is normalized. Used by the importers and by the derived tables."""

from __future__ import annotations

import hashlib
import re

from .scaffold import ID_ALPHABET

NO_COUNTY = {"", "#N/A", "N/A", "#NA", "NA"}  # what ICE writes in COUNTY for no county
WORDS = {"dept": "department", "dept.": "department", "co": "county", "cnty": "county", "ofc": "office", "pd": "police department",
         "twp": "township", "saint": "st", "parish": "county", "sheriff": "sheriffs", "sherrifs": "sheriffs", "sherriffs": "sheriffs"}


def stable_id(prefix: str, key: str) -> str:
    """`prefix-` and 12 letters or digits derived from `key`: the same key always gives the same id."""
    digest = int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16)
    letters = []
    for _ in range(12):
        digest, index = divmod(digest, len(ID_ALPHABET))
        letters.append(ID_ALPHABET[index])
    return f"{prefix}-{''.join(letters)}"


def normalized(agency: str) -> str:
    """An agency's name for comparing: case, punctuation and abbreviations aside, and a Louisiana
    `Parish` read as `County` (ICE writes both)."""
    text = agency.casefold().replace("&", " and ")
    text = re.sub(r"[’'`]", "", text)
    words = [WORDS.get(word, word) for word in re.sub(r"[^a-z0-9]+", " ", text).split()]
    text = " ".join(words).removeprefix("the ")
    return re.sub(r"^(city|town|village|borough|township) of (?=\w+ )", "", text)
