"""RmrSettings: librmr's environment variables, read in one place."""

from __future__ import annotations

import logging
from pathlib import Path

from xapp.rmr.settings import RmrSettings

FULL_ENV = {
    "RMR_SEED_RT": "/opt/route/local.rt",
    "RMR_RTG_SVC": "service-ricplt-rtmgr-rmr.ricplt:4561",
    "RMR_SRC_ID": "service-ricxapp-linkfm-rmr.ricxapp",
    "RMR_BIND_IF": "10.1.2.3",
    "RMR_CTL_PORT": "4599",
    "RMR_ASYNC_CONN": "0",
    "RMR_LOG_VLEVEL": "5",
}


def test_every_librmr_variable_is_read() -> None:
    settings = RmrSettings.from_env(FULL_ENV, port=4560)
    assert settings == RmrSettings(
        port=4560,
        bind_if="10.1.2.3",
        seed_rt=Path("/opt/route/local.rt"),
        rtg_svc="service-ricplt-rtmgr-rmr.ricplt:4561",
        src_id="service-ricxapp-linkfm-rmr.ricxapp",
        ctl_port=4599,
        async_conn=False,
        log_vlevel=5,
    )


def test_empty_environment_gives_librmr_defaults() -> None:
    settings = RmrSettings.from_env({})
    assert (settings.port, settings.ctl_port, settings.async_conn) == (4560, 4561, True)
    assert settings.seed_rt is None and settings.rtg_svc is None and settings.bind_if == ""


def test_rtg_svc_minus_one_or_a_bare_port_means_no_table_request() -> None:
    assert RmrSettings.from_env({"RMR_RTG_SVC": "-1"}).rtg_svc is None
    assert RmrSettings.from_env({"RMR_RTG_SVC": "4561"}).rtg_svc is None


def test_src_id_without_a_port_gets_the_data_port_appended() -> None:
    settings = RmrSettings.from_env({"RMR_SRC_ID": "linkfm"}, port=4560)
    assert settings.source_name() == "linkfm:4560"
    assert settings.source_name(port=5000) == "linkfm:5000"


def test_src_id_with_a_port_is_used_as_given() -> None:
    assert RmrSettings.from_env({"RMR_SRC_ID": "linkfm:9999"}).source_name() == "linkfm:9999"


def test_srcip_uses_the_bind_interface_when_one_is_set() -> None:
    assert RmrSettings(port=4560, bind_if="10.1.2.3").source_ip() == "10.1.2.3:4560"


def test_log_vlevel_maps_onto_python_logging_levels() -> None:
    assert RmrSettings(log_vlevel=0).log_level == logging.CRITICAL
    assert RmrSettings(log_vlevel=5).log_level == logging.DEBUG
    assert RmrSettings(log_vlevel=99).log_level == logging.DEBUG


def test_to_env_then_from_env_gives_the_same_settings() -> None:
    settings = RmrSettings.from_env(FULL_ENV, port=4560)
    assert RmrSettings.from_env(settings.to_env(), port=4560) == settings
