"""The metric explorer's API: wildcard selections, the binary frame, the cap, bad input."""

from __future__ import annotations

import json
import struct

import httpx
import numpy as np
import pytest

from heron.dashboard.explore import MAX_SERIES, SelectionError, parse_selection
from heron.monitor.contracts import MetricId
from heron.types import MetricDatum, Sample

from .helpers import START, Setup, sign_in

NOW_MS = int(START * 1000)


def decode(body: bytes) -> tuple[dict[str, object], np.ndarray]:
    """The frame as the page reads it: header JSON, then float32 rows."""
    (length,) = struct.unpack_from("<I", body)
    header = json.loads(body[4 : 4 + length])
    offset = -(-(4 + length) // 4) * 4
    count, size = int(header["count"]), int(header["size"])  # type: ignore[call-overload]
    values = np.frombuffer(body, "<f4", count * size, offset).reshape(count, size)
    assert len(body) == offset + count * size * 4
    return header, values


def put_shards(setup: Setup, shards: int, *, ago_s: int = 90) -> None:
    setup.metrics.put_samples(
        [
            Sample(
                "Bench",
                "Load",
                MetricDatum.dims({"Shard": f"s{i:03d}", "Region": "eu"}),
                NOW_MS - ago_s * 1000,
                values=(float(i), float(i) + 2),
                unit="Count",
            )
            for i in range(shards)
        ]
        + [
            # Same metric with an extra dimension: not part of a Region + Shard selection.
            Sample(
                "Bench",
                "Load",
                MetricDatum.dims({"Shard": "s000", "Region": "eu", "Zone": "a"}),
                NOW_MS - ago_s * 1000,
                values=(99.0,),
            )
        ]
    )


async def test_wildcard_graphs_every_matching_series_on_the_grid(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    await sign_in(client)
    put_shards(setup, 12)
    response = await client.get(
        "/dashboard/api/explore",
        params={"namespace": "Bench", "name": "Load", "dimensions": "Region=eu,Shard=*",
                "stat": "Average", "range": "15m"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    header, values = decode(response.content)
    assert header["count"] == header["total"] == 12
    assert header["truncated"] is False
    assert header["labels"] == [f"s{i:03d}" for i in range(12)]
    assert header["period"] == 60
    slot = (NOW_MS - 90_000 - int(header["start"])) // 60_000  # type: ignore[call-overload]
    assert values[:, slot].tolist() == [i + 1.0 for i in range(12)]  # average of i and i + 2
    others = np.delete(values, slot, axis=1)
    assert np.isnan(others).all()


async def test_limit_caps_the_series_and_says_so(client: httpx.AsyncClient, setup: Setup) -> None:
    await sign_in(client)
    put_shards(setup, 7)
    response = await client.get(
        "/dashboard/api/explore",
        params={"namespace": "Bench", "name": "Load", "dimensions": "Shard=*,Region=*",
                "stat": "Maximum", "range": "1h", "limit": "3"},
    )  # fmt: skip
    header, values = decode(response.content)
    assert (header["count"], header["total"], header["truncated"]) == (3, 7, True)
    assert values.shape == (3, header["size"])
    assert np.nanmax(values, axis=1).tolist() == [2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"name": "Load"}, 400, "namespace"),
        ({"namespace": "Bench"}, 400, "name"),
        ({"namespace": "Bench", "name": "Load", "dimensions": "Shard"}, 400, "dimensions"),
        ({"namespace": "Bench", "name": "Load", "dimensions": "Shard=*,Shard=a"}, 400, "dimensions"),
        ({"namespace": "Bench", "name": "Load", "limit": "1001"}, 400, "limit"),
        ({"namespace": "Bench", "name": "Load", "limit": "lots"}, 400, "limit"),
        ({"namespace": "Bench", "name": "Load", "range": "3y"}, 400, "range"),
        ({"namespace": "Bench", "name": "Load", "dimensions": "Region=*,Shard=*", "stat": "p101"}, 400, "stat"),
        ({"namespace": "Bench", "name": "Nothing"}, 404, "name"),
    ],
)  # fmt: skip
async def test_bad_selections_get_a_json_error_naming_the_field(
    client: httpx.AsyncClient, setup: Setup, params: dict[str, str], status: int, field: str
) -> None:
    await sign_in(client)
    put_shards(setup, 2)
    response = await client.get("/dashboard/api/explore", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["field"] == field
    assert body["message"]


async def test_explorer_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/api/explore?namespace=Bench&name=Load")
    assert response.status_code == 401
    page = await client.get("/dashboard/explore", headers={"Accept": "text/html"})
    assert page.status_code in (302, 303)


async def test_explore_page_is_served_with_its_form(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    page = await client.get("/dashboard/explore")
    assert page.status_code == 200
    assert 'id="explore-form"' in page.text
    assert "/dashboard/static/explore.js" in page.text


def test_selection_matches_exact_dimension_names_and_fixed_values() -> None:
    sel = parse_selection("Bench", "Load", "Region=eu,Shard=*", "", None)
    assert sel.stat == "Average" and sel.limit == MAX_SERIES
    eu = MetricId("Bench", "Load", (("Region", "eu"), ("Shard", "s1")))
    us = MetricId("Bench", "Load", (("Region", "us"), ("Shard", "s1")))
    extra = MetricId("Bench", "Load", (("Region", "eu"), ("Shard", "s1"), ("Zone", "a")))
    assert sel.matches(eu) and not sel.matches(us) and not sel.matches(extra)
    assert sel.label(eu) == "s1"
    with pytest.raises(SelectionError) as bad:
        parse_selection("Bench", "Load", "=x", "", None)
    assert bad.value.field == "dimensions"
