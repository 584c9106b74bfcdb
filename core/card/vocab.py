"""The hand-kept vocabularies a card is checked against: Hub licence ids, ISO 639 codes, repo ids.

Kept here, by hand, so that a card validates offline; when the Hub adds a licence, add it to
`HUB_LICENSES`.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_LICENSE = "apache-2.0"
CARD_TAGS = ["token-classification", "ner", "bengali"]
CARD_METRICS = ["precision", "recall", "f1"]
REQUIRED_KEYS = ["language", "license", "tags", "pipeline_tag", "model-index"]
REPO_ID_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95})/(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95})$")

# The Hub's licence identifiers (https://huggingface.co/docs/hub/repositories-licenses).
HUB_LICENSES: frozenset[str] = frozenset(
    """apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc
    cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
    cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c
    ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openmdw-1.0 openrail++ osl-3.0 postgresql ofl-1.1 ncsa
    unlicense zlib pddl lgpl-lr deepfloyd-if-license fair-noncommercial-research-license llama2 llama3 llama3.1
    llama3.2 llama3.3 llama4 gemma unknown other""".split()
)

# ISO 639-1 codes, plus the ISO 639-2/3 codes of the languages bnner-tui users are likely to tag.
ISO_639_1: frozenset[str] = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
    is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
    ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si
    sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".split()
)
ISO_639_23: frozenset[str] = frozenset(
    """ben eng hin urd asm ori pan guj mar nep sin tam tel kan mal san pli snd kas mai bho awa mag sat mni
    ctg syl rkt bpy chr ara fas per zho chi jpn kor rus deu ger fra fre spa por ita tur mul und""".split()
)


def valid_language(code: Any) -> bool:
    """Whether `code` (also `bn-BD`, `bn_IN`) names a language by an ISO 639 code."""
    if not isinstance(code, str):
        return False
    base = code.split("-")[0].split("_")[0].lower()
    return base in ISO_639_1 or base in ISO_639_23
