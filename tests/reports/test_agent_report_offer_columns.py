"""The agent report's page and CSV carry push routing's figures: offers, missed, rejected and
the average ring, after the columns that were there before."""

import csv
import io

DAY = {"start": "2026-11-02", "end": "2026-11-02"}


def test_the_agent_csv_appends_the_offer_figures(client, analyst, db):
    client.force_login(analyst)

    response = client.get("/reports/agents/", {**DAY, "export": "csv"})

    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:6] == [
        "agent", "answered", "talk_seconds", "aht_seconds", "available_seconds", "occupancy"
    ]  # fmt: skip
    assert header[6:] == ["offers", "missed", "rejected", "ring_seconds_avg"]


def test_the_agent_page_shows_the_offer_columns(client, analyst, db):
    client.force_login(analyst)

    body = client.get("/reports/agents/", DAY).content.decode()

    head = body.split('id="agent-report"', 1)[1].split("</thead>", 1)[0]
    for label in ("Offers", "Missed", "Rejected", "Average ring (s)"):
        assert label in head
