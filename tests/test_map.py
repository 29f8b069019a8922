"""The oblast's map: its values are the league's (per 10 000 residents against an independent pandas
count), Novosibirsk's districts beside it, a head's own territory outlined, the attribution shown,
and no request for Plotly's world outline beyond the app (the gate serves an empty one)."""
import base64
import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import text

from queries.viewer import Viewer

from .conftest import SMALL_AS_OF
from .pagetools import frame, run_page, select


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _array(values) -> np.ndarray:
    if isinstance(values, dict):  # Plotly's typed array: base64 of the raw buffer
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def test_the_maps_values_are_the_leagues_and_a_heads_territory_is_outlined(small_db):
    url = small_db.url.render_as_string(hide_password=False)
    head = Viewer("map-head", "head", territories=("50708000",))
    at = run_page(url, SMALL_AS_OF, "pages/territories.py", viewer=head, **{"from": "2021-03-01", "to": "2021-03-31"})
    specs = _charts(at)
    maps = [s for s in specs if s["data"][0]["type"] == "choropleth"]
    assert len(maps) == 1
    trace, layout = maps[0]["data"][0], maps[0]["layout"]
    codes, z = list(trace["locations"]), _array(trace["z"])
    df = select(frame(small_db), dt.date(2021, 3, 1), dt.date(2021, 3, 31))
    with small_db.connect() as c:
        top = dict(c.execute(text("select code, population from municipalities where parent_id is null "
                                  "and kind <> 'region'")).all())
    assert len(codes) == 35 and set(codes) <= set(top)
    for code, value in zip(codes, z):
        n = ((df["m_code"] == code) | (df["parent_m_code"] == code)).sum()
        assert value == pytest.approx(n / top[code] * 10_000), code
    widths = dict(zip(codes, trace["marker"]["line"]["width"]))
    assert widths["50708000"] > max(w for c, w in widths.items() if c != "50708000")
    assert any("OpenStreetMap" in a.get("text", "") for a in layout.get("annotations", []))
    # the city's districts beside the map, as bars with their own values
    bars = [s for s in specs if s["data"][0]["type"] == "bar" and len(_array(s["data"][0]["x"])) == 10]
    assert bars, "Novosibirsk's ten districts beside the map"
