"""Without an InfluxDB URL, telemetry goes to a line-protocol file under ``runs/``."""

from __future__ import annotations

import re
from pathlib import Path

from tests.telemetry.conftest import CELL, recommendation
from tests.telemetry.victoria import VictoriaMetrics, by_name
from xapp.config import InfluxSettings
from xapp.telemetry.sinks import FileSink, InfluxSink
from xapp.telemetry.writer import (
    HealthCounters,
    TelemetryWriter,
    WriterOptions,
    influx_configured,
    open_sink,
)

# measurement[,tag=value...] field=value[,field=value...] timestamp (no string fields here)
_KEY = r"(?:[^,= \\]|\\[,= \\])+"
_FIELD = rf"{_KEY}=(?:-?\d+i|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|true|false)"
LINE = re.compile(rf"^{_KEY}(?:,{_KEY}={_KEY})* {_FIELD}(?:,{_FIELD})* \d+$")

FAST = WriterOptions(flush_interval_s=0.05)


def write_sample(sink: FileSink) -> None:
    with TelemetryWriter(sink, options=FAST) as writer:
        for ue in range(5):
            writer.record_decision(recommendation(ue), 0.001 * (ue + 1))
        writer.record_scoreboard("gnb_a", CELL, 3.0, 4.0, 4.5, 8)
        writer.record_health(HealthCounters(decisions=5, model_loaded=True))


def test_no_influx_url_means_a_new_file_under_runs(tmp_path: Path) -> None:
    sink = open_sink(None, runs_dir=tmp_path / "runs", xapp="linkfm")
    assert isinstance(sink, FileSink)
    assert sink.path.parent == tmp_path / "runs"
    assert re.fullmatch(r"telemetry-linkfm-\d{8}T\d{6}Z\.lp", sink.path.name)
    sink.close()


def test_an_influx_url_means_the_v2_write_api() -> None:
    sink = open_sink(InfluxSettings(url="http://127.0.0.1:1"))
    assert isinstance(sink, InfluxSink)
    sink.close()


def test_only_an_influx_url_in_the_environment_selects_influx() -> None:
    assert influx_configured({"INFLUX_URL": "http://db:8086"})
    assert not influx_configured({"INFLUX_URL": "  ", "INFLUX_ORG": "o"})


def test_every_line_of_the_file_is_line_protocol(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "t.lp")
    write_sample(sink)
    lines = sink.path.read_text().splitlines()
    assert len(lines) >= 7  # 5 recommendations, scoreboard, health, decision counts
    assert [line for line in lines if not LINE.match(line)] == []


def test_the_file_imports_into_a_real_server(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    sink = FileSink(tmp_path / "t.lp")
    write_sample(sink)
    victoria.write_lines(sink.path.read_bytes())
    series = victoria.export(samples=("linkfm_recommendation_latency_us", 5))
    [latency] = by_name(series, "linkfm_recommendation_latency_us")
    assert [v for _, v in latency.samples] == [1000, 2000, 3000, 4000, 5000]
    [se] = by_name(series, "linkfm_scoreboard_se_oracle")
    assert [v for _, v in se.samples] == [4.5]


def test_the_token_is_never_in_the_description() -> None:
    from pydantic import SecretStr

    sink = InfluxSink("http://127.0.0.1:1", "org", "bucket", SecretStr("s3cr3t-token"))
    assert "s3cr3t" not in sink.description
    assert "s3cr3t" not in repr(sink.__dict__.get("_url"))
    sink.close()
