"""The Japanese catalogs are complete and well formed, and pages render in Japanese."""

import ast
import fcntl
import json
import re
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.translation import reloader

from agents.models import Agent, AgentStatus

LOCALE = Path(settings.BASE_DIR) / "locale"
DOMAINS = ["django", "djangojs"]
JA_CATALOGS = [LOCALE / "ja" / "LC_MESSAGES" / f"{domain}.po" for domain in DOMAINS]
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}

# %(name)s, %d, %s, %%…: printf-style placeholders; {name}: str.format placeholders.
PRINTF = re.compile(r"%(?:\(\w+\))?[#0\- +]*\d*(?:\.\d+)?[sdifgeExXr%]")
BRACES = re.compile(r"\{\w*\}")


def parse_po(path):
    """The entries of a .po file as dicts (msgctxt, msgid, msgid_plural, msgstr list, flags).

    Obsolete entries (#~) are left out: gettext ignores them.
    """
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
                entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                field = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                entry["msgstr"][field] = value
            else:
                field = keyword
                entry[field] = value
    finish()
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


def _label(entry):
    return repr(entry["msgid"])


@pytest.fixture(scope="module")
def compiled_catalogs():
    """Compile the .mo files when they are missing or older than their .po (make messages)."""
    lock_path = Path(tempfile.gettempdir()) / "tsunagu-compilemessages.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stale = [
            po
            for po in JA_CATALOGS
            if not po.with_suffix(".mo").exists()
            or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
        ]
        if stale:
            call_command("compilemessages", locale=["ja"], verbosity=0)
            # Forget catalogs this process may have loaded before they existed.
            reloader.translation_file_changed(None, stale[0].with_suffix(".mo"))
        fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def japanese(settings, compiled_catalogs):
    settings.LANGUAGE_CODE = "ja"


@pytest.mark.parametrize("path", JA_CATALOGS, ids=DOMAINS)
def test_the_japanese_catalog_has_no_untranslated_entry(path):
    entries = parse_po(path)

    untranslated = [_label(e) for e in entries if not all(e["msgstr"].values())]

    assert entries
    assert untranslated == []


@pytest.mark.parametrize("path", JA_CATALOGS, ids=DOMAINS)
def test_the_japanese_catalog_has_no_fuzzy_entry(path):
    fuzzy = [_label(e) for e in parse_po(path) if "fuzzy" in e["flags"]]

    assert fuzzy == []


@pytest.mark.parametrize("path", JA_CATALOGS, ids=DOMAINS)
def test_japanese_plurals_have_the_single_japanese_form(path):
    header = path.read_text(encoding="utf-8")
    plurals = [e for e in parse_po(path) if "msgid_plural" in e]

    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header
    assert [sorted(e["msgstr"]) for e in plurals] == [[0]] * len(plurals)


@pytest.mark.parametrize("path", JA_CATALOGS, ids=DOMAINS)
def test_every_translation_keeps_the_placeholders_of_its_source(path):
    mismatched = []
    for entry in parse_po(path):
        source = entry.get("msgid_plural", entry["msgid"])
        for translation in entry["msgstr"].values():
            for pattern in (PRINTF, BRACES):
                if sorted(pattern.findall(source)) != sorted(pattern.findall(translation)):
                    mismatched.append((entry["msgid"], translation))

    assert mismatched == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_english_and_japanese_catalogs_hold_the_same_messages(domain):
    english = parse_po(LOCALE / "en" / "LC_MESSAGES" / f"{domain}.po")
    japanese = parse_po(LOCALE / "ja" / "LC_MESSAGES" / f"{domain}.po")

    assert {e["msgid"] for e in english} == {e["msgid"] for e in japanese}
    # English is the source language: its catalog translates nothing.
    assert [e["msgid"] for e in english if any(e["msgstr"].values())] == []


@pytest.mark.django_db
def test_the_reports_index_speaks_japanese_to_an_analyst(client, analyst, japanese):
    client.force_login(analyst)

    response = client.get("/reports/", **JA)

    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="ja">' in content
    assert "キューレポート</h1>" in content
    assert "放棄呼" in content
    assert "Queue report" not in content


@pytest.mark.django_db
def test_the_reports_index_stays_english_when_english_is_asked(client, analyst, japanese):
    client.force_login(analyst)

    response = client.get("/reports/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Queue report</h1>" in response.content.decode()


@pytest.mark.django_db
def test_the_agent_desk_shows_japanese_status_names(client, agent_user, japanese):
    Agent.objects.create(user=agent_user, identity="agt", status=AgentStatus.AVAILABLE)
    client.force_login(agent_user)

    response = client.get("/agent/", **JA)

    assert response.status_code == 200
    content = response.content.decode()
    for name in ["受付可", "通話中", "後処理", "離席", "オフライン"]:
        assert f">{name}</option>" in content
    assert '<span id="status-label" class="badge status-badge" data-status="available">受付可' in (
        content
    )
    assert "ソフトフォン" in content


@pytest.mark.django_db
def test_the_admin_index_shows_japanese_app_names_to_a_supervisor(client, supervisor, japanese):
    client.force_login(supervisor)

    response = client.get("/admin/", **JA)

    assert response.status_code == 200
    content = response.content.decode()
    assert "つなぐ 管理サイト" in content
    for app_name in ["エージェント", "キュー", "コールフロー"]:
        assert f">{app_name}</a>" in content


@pytest.mark.django_db
def test_the_home_page_names_the_roles_in_japanese(client, django_user_model, japanese):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))

    response = client.get("/", **JA)

    content = response.content.decode()
    for role in ["エージェント", "アナリスト", "スーパーバイザー"]:
        assert f">{role}</a>" in content
    assert "Supervisors" not in content


@pytest.mark.django_db
def test_the_javascript_catalog_serves_japanese_strings(client, japanese):
    response = client.get("/jsi18n/", **JA)

    assert response.status_code == 200
    content = response.content.decode()
    assert json.dumps("閉じる") in content  # the catalog is JSON with ASCII escapes
    assert json.dumps("無効なキー") in content
