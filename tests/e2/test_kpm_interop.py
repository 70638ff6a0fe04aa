"""Cross-check against an independent APER implementation (asn1tools) of the same module.

Our pycrate-based codec and asn1tools must agree byte for byte on everything the codec
writes, and the codec must read what asn1tools writes, including what pycrate 0.8.1 itself
cannot write correctly (the v3.00 label extension additions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO_ROOT, require
from tests.e2 import kpm_strategies as s
from xapp.e2 import kpm
from xapp.e2.kpm_types import KpmActionDefinitionFormat1, MeasurementInfo, MeasurementLabel

try:
    import asn1tools
except ImportError:  # a dev dependency: required under CI (see require)
    asn1tools = None

EXAMPLES = settings(max_examples=40, deadline=None)


@pytest.fixture(scope="module")
def other() -> Any:
    require(asn1tools is not None, "python package asn1tools")
    return asn1tools.compile_files(str(REPO_ROOT / "schemas" / "e2sm_kpm.asn"), "per")


# (ASN.1 type, values, our encoder, our decoder, whether the bytes must be identical). REAL
# encodings may legitimately differ (asn1tools pads some mantissas with a zero octet), so
# types with REAL values are compared by decoded value only.
CASES: dict[
    str, tuple[str, st.SearchStrategy[Any], Callable[[Any], bytes], Callable[[bytes], Any], bool]
] = {
    "event_trigger": (
        "E2SM-KPM-EventTriggerDefinition",
        s.event_triggers,
        kpm.encode_event_trigger,
        kpm.decode_event_trigger,
        True,
    ),
    "action_format1": (
        "E2SM-KPM-ActionDefinition",
        s.action_format1,
        kpm.encode_action_definition,
        kpm.decode_action_definition,
        True,
    ),
    "action_format4": (
        "E2SM-KPM-ActionDefinition",
        s.action_format4,
        kpm.encode_action_definition,
        kpm.decode_action_definition,
        False,
    ),
    # asn1tools does not implement the size extension of strings: stay in the root sizes.
    "header": (
        "E2SM-KPM-IndicationHeader",
        s.headers_in_root,
        kpm.encode_indication_header,
        kpm.decode_indication_header,
        True,
    ),
    "format1": (
        "E2SM-KPM-IndicationMessage",
        s.format1_messages(),
        kpm.encode_indication_message,
        kpm.decode_indication_message,
        False,
    ),
    "ran_function": (
        "E2SM-KPM-RANfunction-Description",
        s.ran_functions,
        kpm.encode_ran_function,
        kpm.decode_ran_function,
        True,
    ),
    "format3": (
        "E2SM-KPM-IndicationMessage",
        s.format3_messages,
        kpm.encode_indication_message,
        kpm.decode_indication_message,
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_implementations_agree_on_what_the_codec_writes(other: Any, case: str) -> None:
    type_name, strategy, encode, decode, exact = CASES[case]

    @EXAMPLES
    @given(strategy)
    def check(value: Any) -> None:
        ours = encode(value)
        theirs = other.encode(type_name, other.decode(type_name, ours))
        assert decode(theirs) == value
        if exact:
            assert theirs.hex() == ours.hex()

    check()


_extended_labels = st.builds(
    MeasurementLabel,
    avg=st.booleans(),
    dist_bin_x=st.none() | st.integers(1, 65535),
    ssb_index=st.none() | st.integers(1, 65535),
    non_gob_bf_mode_index=st.none() | st.integers(1, 65535),
    mimo_mode_index=st.integers(1, 2),
)


def _label_tree(label: MeasurementLabel) -> dict[str, Any]:
    tree: dict[str, Any] = {"mIMO-mode-Index": label.mimo_mode_index}
    if label.avg:
        tree["avg"] = "true"
    for key, value in (
        ("distBinX", label.dist_bin_x),
        ("ssbIndex", label.ssb_index),
        ("nonGoB-BFmode-Index", label.non_gob_bf_mode_index),
    ):
        if value is not None:
            tree[key] = value
    return tree


@EXAMPLES
@given(st.lists(_extended_labels, min_size=1, max_size=3))
def test_label_extension_additions_written_elsewhere_are_read(
    other: Any, labels: list[MeasurementLabel]
) -> None:
    value = {
        "ric-Style-Type": 1,
        "actionDefinition-formats": (
            "actionDefinition-Format1",
            {
                "measInfoList": [
                    {
                        "measType": ("measName", "L1M.SS-RSRP"),
                        "labelInfoList": [{"measLabel": _label_tree(lab)} for lab in labels],
                    }
                ],
                "granulPeriod": 100,
            },
        ),
    }
    data = other.encode("E2SM-KPM-ActionDefinition", value)
    assert kpm.decode_action_definition(data) == KpmActionDefinitionFormat1(
        (MeasurementInfo("L1M.SS-RSRP", tuple(labels)),), 100
    )
